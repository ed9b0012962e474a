using TorchSharp;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>GPT-NeoX rotary position embedding: rotate-half pairing over the first
/// <see cref="GptNeoXConfig.RotaryNdims"/> dims of each head, cos/sin built in float32 as HF does.</summary>
public static class RotaryEmbedding
{
    /// <summary>cos and sin tables, each <c>[T, rd]</c> in <paramref name="dtype"/>.</summary>
    public static (Tensor Cos, Tensor Sin) Tables(GptNeoXConfig config, long positions, Device device, ScalarType dtype)
    {
        int rd = config.RotaryNdims;
        using var scope = NewDisposeScope();
        // inv_freq = 1 / base^(arange(0, rd, 2) / rd), in float32 (transformers' GPTNeoXRotaryEmbedding).
        var exponents = arange(0, rd, 2, ScalarType.Int64, device).to(ScalarType.Float32) / rd;
        var invFreq = pow(tensor((float)config.RotaryEmbBase, device: device), exponents).reciprocal();
        var t = arange(positions, ScalarType.Int64, device).to(ScalarType.Float32);
        var freqs = outer(t, invFreq);                                 // [T, rd/2]
        var emb = cat([freqs, freqs], -1);                             // [T, rd]
        var cos = emb.cos().to(dtype);
        var sin = emb.sin().to(dtype);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>Applies rotary to the first rd dims of <paramref name="x"/> <c>[B, H, T, hs]</c>;
    /// the rest pass through.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long rd = cos.shape[^1];
        if (rd == 0) return x.alias();
        long hs = x.shape[^1];
        var rot = x[.., .., .., ..(int)rd];
        var half = rd / 2;
        var rotated = cat([-rot[.., .., .., (int)half..], rot[.., .., .., ..(int)half]], -1);
        var applied = rot * cos + rotated * sin;
        return rd == hs ? applied : cat([applied, x[.., .., .., (int)rd..]], -1);
    }
}

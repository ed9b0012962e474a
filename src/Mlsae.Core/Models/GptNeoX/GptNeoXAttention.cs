using Mlsae.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>GPT-NeoX causal self-attention. Field names are the checkpoint's keys.</summary>
public sealed class GptNeoXAttention : nn.Module
{
    [ComponentName(Name = "query_key_value")] readonly Linear queryKeyValue;
    [ComponentName(Name = "dense")] readonly Linear dense;
    readonly int heads;
    readonly int headSize;

    /// <summary>Creates the projections; weights are set by the loader or an initializer.</summary>
    public GptNeoXAttention(GptNeoXConfig config) : base("attention")
    {
        heads = config.NumAttentionHeads;
        headSize = config.HeadSize;
        queryKeyValue = nn.Linear(config.HiddenSize, 3L * config.HiddenSize, hasBias: config.AttentionBias);
        dense = nn.Linear(config.HiddenSize, config.HiddenSize, hasBias: config.AttentionBias);
        RegisterComponents();
    }

    /// <summary><c>[B, T, D]</c> → <c>[B, T, D]</c>; cos/sin are <c>[T, rd]</c>.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin)
    {
        long b = x.shape[0], t = x.shape[1];
        // transformers splits q|k|v within each head: view [B, T, H, 3·hs], not [Q_all|K_all|V_all].
        var qkv = BFloat16Matmul.Linear(queryKeyValue, x).view(b, t, heads, 3 * headSize).permute(0, 2, 1, 3); // [B, H, T, 3hs]
        var q = qkv[.., .., .., ..headSize];
        var k = qkv[.., .., .., headSize..(2 * headSize)];
        var v = qkv[.., .., .., (2 * headSize)..];
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        var attn = nn.functional.scaled_dot_product_attention(q, k, v.contiguous(), null, 0.0, is_casual: true); // [B, H, T, hs]
        var merged = attn.permute(0, 2, 1, 3).reshape(b, t, heads * headSize);
        return BFloat16Matmul.Linear(dense, merged);
    }
}

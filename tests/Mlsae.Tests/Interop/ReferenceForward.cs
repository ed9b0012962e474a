using static TorchSharp.torch;

namespace Mlsae.Tests.Interop;

/// <summary>
/// The tools' forward passes written out again with dense tensor ops, independently of
/// <see cref="Mlsae.Interop.ExternalTopKSae"/> (no EmbeddingBag, no shared code): SAELens's
/// <c>TopKSAE.encode</c>/<c>decode</c> with <c>process_sae_in</c> and its activation normalizations,
/// and sparsify's <c>encode</c> (<c>fused_encoder</c>) and <c>decode</c>. Returns the dense
/// activations [N, F] and the reconstruction [N, D].
/// </summary>
public static class ReferenceForward
{
    public static (Tensor Acts, Tensor Recons) SaeLens(ExternalSaeFiles w, Tensor x, int k, bool applyBDec = true,
        string normalize = "none", bool rescale = false, double scalingFactor = 1)
    {
        var wEnc = w.Encoder.t();                                   // SAELens's W_enc: [D, F]
        long d = x.shape[1];
        Tensor input = x;
        Func<Tensor, Tensor> back = y => y;
        switch (normalize)
        {
            case "expected_average_only_in":
                input = x * scalingFactor;
                back = y => y / scalingFactor;
                break;
            case "constant_norm_rescale":
                var coeff = Math.Sqrt(d) / x.norm(-1, keepdim: true);
                input = x * coeff;
                back = y => y / coeff;
                break;
            case "layer_norm":
                var mu = x.mean([-1L], keepdim: true);
                var centred = x - mu;
                var std = centred.std(-1, unbiased: true, keepdim: true);
                input = centred / (std + 1e-5);
                back = y => y * std + mu;
                break;
        }
        var saeIn = input - w.DecoderBias * (applyBDec ? 1.0 : 0.0);
        var pre = saeIn.matmul(wEnc) + w.EncoderBias;
        var norms = w.Decoder.norm(-1);
        if (rescale) pre = pre * norms;
        var (values, indices) = pre.topk(k, dim: -1);
        var acts = zeros_like(pre).scatter(-1, indices, values.relu());
        var decodeActs = rescale ? acts / norms : acts;
        return (acts, back(decodeActs.matmul(w.Decoder) + w.DecoderBias));
    }

    public static (Tensor Acts, Tensor Recons) Sparsify(ExternalSaeFiles w, Tensor x, int k, string activation = "topk", bool signed = false)
    {
        var linear = (x - w.DecoderBias).matmul(w.Encoder.t()) + w.EncoderBias;
        var pre = signed ? linear : linear.relu();
        Tensor values, indices;
        if (signed)
        {
            indices = pre.abs().topk(k, dim: -1).indexes;
            values = pre.gather(-1, indices);
        }
        else if (activation == "groupmax")
        {
            long n = pre.shape[0], group = pre.shape[1] / k;
            (values, var within) = pre.reshape(n, k, group).max(-1);
            indices = within + arange(k, dtype: ScalarType.Int64) * group;
        }
        else (values, indices) = pre.topk(k, dim: -1);
        var acts = zeros_like(pre).scatter(-1, indices, values);
        return (acts, acts.matmul(w.Decoder) + w.DecoderBias);
    }
}

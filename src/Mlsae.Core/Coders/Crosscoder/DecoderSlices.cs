using Mlsae.Autoencoder;
using static TorchSharp.torch;

namespace Mlsae.Coders.Crosscoder;

/// <summary>
/// What a crosscoder's decoder says per layer: the norm of each latent's slice at each layer, and from
/// it the per-layer codes the metrics and analyses read and each latent's decoder-norm share. The
/// decoder is latent-major, <c>[F, L·D]</c>: row f is latent f's slices of every layer, concatenated.
/// </summary>
static class DecoderSlices
{
    /// <summary>‖slice of latent f at layer l‖. // [F, L·D] → [F, L]</summary>
    public static Tensor Norms(Tensor decoder, int layers) => decoder.detach().reshape(decoder.shape[0], layers, -1).norm(-1);

    /// <summary>
    /// The K latents of each token at every layer, valued at their reconstruction norm there in raw
    /// space: activation × ‖decoder slice at l‖ × the token's std at l (<paramref name="std"/>, null
    /// without standardization). No gradient: these are what the metrics and analyses read.
    /// // codes [N, K], raw [N, K], std [L, N, 1] → [L, N, K] ×3
    /// </summary>
    public static (Tensor Values, Tensor Raw, Tensor Indices) PerLayerCodes(Tensor decoder, int layers, TopK codes, Tensor raw, Tensor? std)
    {
        using var _ = no_grad();
        long n = codes.Indices.shape[0], k = codes.Indices.shape[1];
        var scale = Norms(decoder, layers).index_select(0, codes.Indices.reshape(-1)).reshape(n, k, layers).permute(2, 0, 1);   // [L, N, K]
        if (std is not null) scale = scale * std;
        var indices = codes.Indices.unsqueeze(0).expand(layers, n, k).contiguous();
        return (codes.Values.detach().unsqueeze(0) * scale, raw.detach().unsqueeze(0) * scale, indices);
    }

    /// <summary>Each latent's share of its decoder norm per layer, <c>‖d_l‖ / Σ_l' ‖d_l'‖</c> (linear norms, as
    /// the data's share of the activation-weighted reconstruction is). // [F, L·D] → [L, F] float64</summary>
    public static double[,] NormShare(Tensor decoder, int layers)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var norms = Norms(decoder, layers).to(ScalarType.Float64);                       // [F, L]
        long f = norms.shape[0];
        var share = (norms / norms.sum(1, keepdim: true)).t().contiguous().cpu().data<double>().ToArray();
        var result = new double[layers, f];
        for (int l = 0; l < layers; l++)
            for (long j = 0; j < f; j++) result[l, j] = share[l * f + j];
        return result;
    }
}

using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// Mean max cosine similarity of the decoder's latent vectors: for each latent, the largest cosine
/// similarity with any other latent, computed in chunks of rows so F = 32768 fits in bounded
/// memory. (The reference's <c>figures/mmcs.py</c> takes the max over earlier latents only, from
/// an upper-triangular matrix whose zeros floor it at 0; this is the symmetric definition.)
/// </summary>
public static class Mmcs
{
    /// <summary>Per-latent max cosine similarity. // decoder [F, D] → [F]</summary>
    public static double[] MaxCosine(Tensor decoder, int chunk = 1024)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = decoder.to(ScalarType.Float32);
        w = w / w.norm(1, keepdim: true).clamp_min(1e-8);                   // [F, D]
        long f = w.shape[0];
        var result = new double[f];
        for (long start = 0; start < f; start += chunk)
        {
            using var inner = NewDisposeScope();
            long end = Math.Min(f, start + chunk);
            var sims = w.narrow(0, start, end - start).mm(w.t());                                 // [c, F]
            sims.index_put_(float.NegativeInfinity, arange(end - start), arange(start, end));   // not itself
            var max = sims.max(1).values.to(ScalarType.Float64).data<double>().ToArray();
            Array.Copy(max, 0, result, start, max.Length);
        }
        return result;
    }
}

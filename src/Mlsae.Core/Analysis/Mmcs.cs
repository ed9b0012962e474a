using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// Mean max cosine similarity of the decoder's latent vectors, two ways, each computed in chunks
/// of rows so F = 32768 fits in bounded memory: <see cref="MaxCosine"/>, for each latent the largest
/// cosine similarity with any other latent (symmetric); and <see cref="MaxCosineReference"/>, the
/// reference's <c>figures/mmcs.py</c> definition, the max over earlier latents only, floored at 0
/// (the zeros of its upper-triangular matrix). The reference's own chunked path (F ≥ 16384) masks
/// with chunk-local indices and so computes neither; see README.
/// </summary>
public static class Mmcs
{
    /// <summary>Per-latent max cosine similarity with any other latent. // decoder [F, D] → [F]</summary>
    public static double[] MaxCosine(Tensor decoder, int chunk = 1024) => Chunked(decoder, chunk, earlierOnly: false);

    /// <summary>The reference's triangular version: for latent j, max(0, max over i &lt; j of cos(i, j))
    /// (0 for the first latent). // decoder [F, D] → [F]</summary>
    public static double[] MaxCosineReference(Tensor decoder, int chunk = 1024) => Chunked(decoder, chunk, earlierOnly: true);

    static double[] Chunked(Tensor decoder, int chunk, bool earlierOnly)
    {
        if (chunk <= 0) throw new ArgumentOutOfRangeException(nameof(chunk), chunk, "must be positive");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = decoder.to(ScalarType.Float32);
        w = w / w.norm(1, keepdim: true).clamp_min(1e-8);                   // [F, D], the reference's normalize (eps 1e-8)
        long f = w.shape[0];
        var result = new double[f];
        for (long start = 0; start < f; start += chunk)
        {
            using var inner = NewDisposeScope();
            long end = Math.Min(f, start + chunk), rows = end - start;
            var max = earlierOnly ? EarlierMax(w, start, rows) : OthersMax(w, start, rows);   // [c]
            Array.Copy(max.to(ScalarType.Float64).data<double>().ToArray(), 0, result, start, rows);
        }
        return result;
    }

    /// <summary>Rows start..start+rows against every latent but themselves. // [c]</summary>
    static Tensor OthersMax(Tensor w, long start, long rows)
    {
        var sims = w.narrow(0, start, rows).mm(w.t());                                              // [c, F]
        sims.index_put_(float.NegativeInfinity, arange(rows), arange(start, start + rows));         // not itself
        return sims.max(1).values;
    }

    /// <summary>Rows start..start+rows against the latents before each, in global indices (latent
    /// start + r sees columns &lt; start + r), floored at 0. // [c]</summary>
    static Tensor EarlierMax(Tensor w, long start, long rows)
    {
        long end = start + rows;
        var sims = w.narrow(0, start, rows).mm(w.narrow(0, 0, end).t());                           // [c, end]
        var later = arange(end).unsqueeze(0) >= arange(start, end).unsqueeze(1);                  // [c, end]: column ≥ row's latent
        return sims.masked_fill(later, float.NegativeInfinity).max(1).values.clamp_min(0);
    }
}

using Mlsae.Analysis;

namespace Mlsae.Explorer;

/// <summary>
/// Every latent's place in depth, from a dists file (<see cref="LayerDists"/>): its share of
/// activation per layer, mean layer and layer std (NaN for a latent that was never selected), and
/// its frequency: the share of (token, layer) vectors whose TopK selected it.
/// </summary>
public sealed class LatentCatalog
{
    /// <summary>One latent's row.</summary>
    /// <param name="Index">The latent.</param>
    /// <param name="MeanLayer">Σ_l l·share[l], l the position in the layer list (NaN when never selected).</param>
    /// <param name="LayerStd">The std of that distribution (NaN when never selected).</param>
    /// <param name="Frequency">Σ_l counts[l] / (tokens · L).</param>
    /// <param name="Shares">totals[l] / Σ totals. // [L]</param>
    /// <param name="Counts">Times selected per layer. // [L]</param>
    /// <param name="LayerFrequency">counts[l] / tokens. // [L]</param>
    public sealed record Entry(int Index, double MeanLayer, double LayerStd, double Frequency, double[] Shares, long[] Counts, double[] LayerFrequency)
    {
        /// <summary>Positive activations over all the data per <see cref="Analysis.ActivationDensity"/> bin; null for dists without them. // [Bins]</summary>
        public long[]? Density { get; init; }
    }

    /// <summary>The rows, by latent index.</summary>
    public IReadOnlyList<Entry> Entries { get; }
    /// <summary>Token positions the dists counted.</summary>
    public long Tokens { get; }

    LatentCatalog(IReadOnlyList<Entry> entries, long tokens)
    {
        Entries = entries;
        Tokens = tokens;
    }

    /// <summary>Builds the catalog of <paramref name="dists"/>, which must have <paramref name="latents"/> latents and <paramref name="layers"/> layers.</summary>
    public static LatentCatalog From(LayerDists dists, int layers, int latents, string path)
    {
        if (dists.Latents != latents || dists.Layers != layers)
            throw new MlsaeException($"{path}: dists of [{dists.Layers}, {dists.Latents}] (layers, latents) do not match the SAE's [{layers}, {latents}]");
        var stats = dists.Stats();
        double vectors = Math.Max(1, dists.Tokens) * (double)layers;
        var entries = Enumerable.Range(0, latents).Select(f =>
        {
            var counts = Enumerable.Range(0, layers).Select(l => dists.Count(l, f)).ToArray();
            return new Entry(f, stats.LayerMean[f], stats.LayerStd[f], counts.Sum() / vectors,
                Enumerable.Range(0, layers).Select(l => stats.Probs[l, f]).ToArray(), counts,
                counts.Select(c => c / Math.Max(1.0, dists.Tokens)).ToArray()) { Density = dists.Density(f) };
        }).ToArray();
        return new LatentCatalog(entries, dists.Tokens);
    }
}

using System.Globalization;
using System.Text;
using Mlsae.IO;

namespace Mlsae.Analysis;

/// <summary>
/// The reference's <c>figures/dists_histograms.py</c>: the density of the active latents' mean
/// layer in 16·L equal bins over <c>[0, L−1]</c>, or with <see cref="NonInteger"/> the density of
/// its distance from the nearest layer, <c>|mean − round(mean)|</c> (round half to even, as NumPy),
/// over <c>[0, 0.5]</c>: how far latents sit between layers. Latents that never fired (NaN mean
/// layer) are left out. Layers are positions 0..L−1 in the SAE's layer list.
/// </summary>
/// <param name="NonInteger">Whether the values are distances from the nearest layer.</param>
/// <param name="Edges">The 16·L + 1 bin edges. // [16L + 1]</param>
/// <param name="Counts">Latents per bin. // [16L]</param>
/// <param name="Density">Counts / bin width / total, integrating to 1 (NumPy's <c>density=True</c>). // [16L]</param>
public sealed record MeanLayerHistogram(bool NonInteger, double[] Edges, long[] Counts, double[] Density)
{
    /// <summary>Bins per layer, as the reference.</summary>
    public const int BinsPerLayer = 16;

    /// <summary>The histogram of <paramref name="stats"/>' mean layers over <paramref name="layers"/> layers.</summary>
    public static MeanLayerHistogram From(LayerDistStats stats, int layers, bool nonInteger)
    {
        var values = stats.LayerMean.Where(v => !double.IsNaN(v));
        if (nonInteger) values = values.Select(v => Math.Abs(v - Math.Round(v, MidpointRounding.ToEven)));
        var edges = nonInteger ? Histogram.Edges(BinsPerLayer * layers, 0, 0.5) : Histogram.Edges(BinsPerLayer * layers, 0, layers - 1);
        var counts = Histogram.Counts(values, edges);
        return new MeanLayerHistogram(nonInteger, edges, counts, Histogram.Density(counts, edges));
    }

    /// <summary>
    /// Writes the reference's CSV atomically: a header <c>layer,density</c> and one row per bin edge,
    /// the density of the bin starting there (0 after the last edge, as the reference appends it).
    /// </summary>
    public void SaveCsv(string path)
    {
        var csv = new StringBuilder("layer,density\n");
        for (int i = 0; i < Edges.Length; i++)
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{Edges[i]:R},{(i < Density.Length ? Density[i] : 0.0):R}\n"));
        AtomicFile.WriteText(path, csv.ToString());
    }
}

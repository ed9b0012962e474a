namespace Mlsae.Explorer;

/// <summary>A histogram with equal-width bins.</summary>
/// <param name="Edges">Bin edges, one more than the bins.</param>
/// <param name="Counts">Values per bin; the last bin includes its right edge.</param>
public sealed record LayerHistogram(double[] Edges, long[] Counts)
{
    /// <summary>Histograms of several groups of values over the same edges, from 0 to the largest value.</summary>
    public static LayerHistogram[] Shared(IReadOnlyList<IReadOnlyList<float>> groups, int bins)
    {
        double max = groups.SelectMany(g => g).DefaultIfEmpty(0).Max();
        if (!(max > 0)) max = 1;                                   // nothing fired: one empty range
        var edges = Enumerable.Range(0, bins + 1).Select(b => max * b / bins).ToArray();
        return groups.Select(g =>
        {
            var counts = new long[bins];
            foreach (var value in g) counts[Math.Clamp((int)(value / max * bins), 0, bins - 1)]++;
            return new LayerHistogram(edges, counts);
        }).ToArray();
    }
}

namespace Mlsae.Analysis;

/// <summary>
/// Equal-width histograms with NumPy's rules (<c>numpy.histogram</c>, <c>histogram2d</c>), so
/// counts match the reference's figures scripts: edges are <c>linspace(lo, hi, bins + 1)</c>, bin i
/// holds <c>[edges[i], edges[i+1])</c> except the last, which also holds <c>hi</c>; values outside
/// <c>[lo, hi]</c> and NaN are not counted; an empty range <c>lo == hi</c> becomes
/// <c>[lo − 0.5, hi + 0.5]</c>.
/// </summary>
public static class Histogram
{
    /// <summary>The bin edges, computed as <c>numpy.linspace</c> does (start + i·step, the last exactly <paramref name="hi"/>).</summary>
    public static double[] Edges(int bins, double lo, double hi)
    {
        if (bins <= 0) throw new ArgumentOutOfRangeException(nameof(bins), "a histogram needs at least one bin");
        if (lo == hi) (lo, hi) = (lo - 0.5, hi + 0.5);
        double step = (hi - lo) / bins;
        var edges = new double[bins + 1];
        for (int i = 0; i < bins; i++) edges[i] = lo + i * step;
        edges[bins] = hi;
        return edges;
    }

    /// <summary>The bin of <paramref name="value"/> among <paramref name="edges"/>, or −1 when it is not counted.</summary>
    public static int Bin(double value, double[] edges)
    {
        int bins = edges.Length - 1;
        if (!(value >= edges[0] && value <= edges[bins])) return -1;      // also NaN
        if (value == edges[bins]) return bins - 1;
        int lo = 0, hi = bins;                                            // the last edge ≤ value
        while (hi - lo > 1)
        {
            int mid = (lo + hi) / 2;
            if (edges[mid] <= value) lo = mid; else hi = mid;
        }
        return lo;
    }

    /// <summary>Counts of <paramref name="values"/> per bin.</summary>
    public static long[] Counts(IEnumerable<double> values, double[] edges)
    {
        var counts = new long[edges.Length - 1];
        foreach (var v in values)
            if (Bin(v, edges) is int b and >= 0) counts[b]++;
        return counts;
    }

    /// <summary><c>density=True</c>: count / bin width / total count, in NumPy's order; NaN everywhere when nothing was counted (NumPy's 0/0).</summary>
    public static double[] Density(long[] counts, double[] edges)
    {
        double total = counts.Sum();
        return counts.Select((c, i) => c / (edges[i + 1] - edges[i]) / total).ToArray();
    }
}

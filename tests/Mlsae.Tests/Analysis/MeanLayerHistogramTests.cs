using System.Globalization;
using Mlsae.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

/// <summary>The reference's <c>dists_histograms</c>: NumPy's binning, density and CSV.</summary>
public class MeanLayerHistogramTests
{
    [Fact]
    public void BinsFollowNumPyEdgesWithTheLastBinClosed()
    {
        var edges = Histogram.Edges(4, 0, 2);
        Assert.Equal([0, 0.5, 1, 1.5, 2], edges);
        // numpy.histogram([0, 0.49, 0.5, 1.99, 2, 2.01, -0.1, nan], 4, (0, 2)) → [2, 1, 0, 2]
        Assert.Equal([2L, 1, 0, 2], Histogram.Counts([0, 0.49, 0.5, 1.99, 2, 2.01, -0.1, double.NaN], edges));
        Assert.Equal([-0.5, 0.5], Histogram.Edges(1, 0, 0));     // NumPy widens an empty range
    }

    [Fact]
    public void TheHistogramHas16BinsPerLayerAndIntegratesToOne()
    {
        // Four layers: latents at mean layer 0, 3 (the top edge), and two with 1/(1+1+...) profiles.
        using var scope = NewDisposeScope();
        var dists = new LayerDists(4, 5);
        // [L, B, T, K] = [4, 1, 1, 2]: latent 0 at layer 0, latent 1 at layer 3, latent 2 at layers 1 and 2 (mean 1.5), latent 3 at layer 1 ×1 and 2 ×3 (mean 1.75).
        dists.Add(tensor(new float[] { 1, 0, 1, 1, 1, 3, 1, 0 }, [4, 1, 1, 2]), tensor(new long[] { 0, 4, 2, 3, 2, 3, 1, 4 }, [4, 1, 1, 2]));
        var stats = dists.Stats();
        Assert.Equal([0, 3, 1.5, 1.75], stats.LayerMean.Take(4).ToArray());
        var h = MeanLayerHistogram.From(stats, 4, nonInteger: false);
        Assert.Equal(65, h.Edges.Length);
        Assert.Equal(3.0, h.Edges[^1]);
        double width = 3.0 / 64;
        var expected = new long[64];
        foreach (var v in new[] { 0, 3, 1.5, 1.75 }) expected[Math.Min(63, (int)Math.Floor(v / width))]++;
        Assert.Equal(expected, h.Counts);
        Assert.Equal(1.0, h.Density.Sum() * width, 12);
        Assert.Equal(1 / width / 4, h.Density[0], 12);

        var n = MeanLayerHistogram.From(stats, 4, nonInteger: true);
        Assert.Equal(0.5, n.Edges[^1]);
        // |v − round(v)|: 0, 0, 0.5 (1.5 rounds to even 2), 0.25 → bins 0, 0, 63, 32 of width 0.5/64.
        Assert.Equal(2, n.Counts[0]);
        Assert.Equal(1, n.Counts[63]);
        Assert.Equal(1, n.Counts[32]);
        Assert.Equal(4, n.Counts.Sum());
    }

    [Fact]
    public void TheCsvHasOneRowPerEdgeWithAZeroAppended()
    {
        var h = new MeanLayerHistogram(false, [0, 0.5, 1], [1, 3], [0.5, 1.5]);
        var path = Path.Combine(Fixtures.TempDir(), "h.csv");
        h.SaveCsv(path);
        Assert.Equal(["layer,density", "0,0.5", "0.5,1.5", "1,0"], File.ReadAllLines(path));
        Assert.Equal(1.5, double.Parse(File.ReadAllLines(path)[2].Split(',')[1], CultureInfo.InvariantCulture));
    }
}

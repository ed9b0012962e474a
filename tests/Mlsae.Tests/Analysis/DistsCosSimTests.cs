using Mlsae.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

/// <summary>The reference's <c>dists_cos_sim_heatmaps</c> data against a pair-by-pair computation.</summary>
public class DistsCosSimTests
{
    [Fact]
    public void EachPairOfFiredLatentsIsCountedOnceInItsBin()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(3);
        int f = 40, d = 64, layers = 4;
        var w = randn([f, d], generator: manual_seed(7)) * 3;                    // not unit rows: Compute normalizes
        var means = Enumerable.Range(0, f).Select(i => i % 9 == 4 ? double.NaN : rng.NextDouble() * (layers - 1)).ToArray();
        means[0] = 0; means[1] = 3;                                                // a pair at the top x edge, exactly

        var result = DistsCosSim.Compute(w, means, layers, chunk: 7);             // chunks that do not divide F
        var unit = (w / w.norm(1, keepdim: true)).to(ScalarType.Float64);
        var cos = unit.mm(unit.t()).data<double>().ToArray();
        var expected = new long[DistsCosSim.XBins, DistsCosSim.YBins];
        int active = means.Count(m => !double.IsNaN(m));
        long inRange = 0;
        for (int i = 0; i < f; i++)
            for (int j = i + 1; j < f; j++)
            {
                if (double.IsNaN(means[i]) || double.IsNaN(means[j])) continue;
                double x = Math.Abs(means[i] - means[j]), y = cos[i * f + j];
                if (y < -0.25 || y > 0.25) continue;
                // Bins of width (L−1)/64 and 0.5/512, the top edge in the last bin.
                int xi = Math.Min(DistsCosSim.XBins - 1, (int)Math.Floor(x / ((layers - 1) / 64.0)));
                int yi = Math.Min(DistsCosSim.YBins - 1, (int)Math.Floor((y + 0.25) / (0.5 / 512)));
                expected[xi, yi]++;
                inRange++;
            }
        Assert.Equal(active, result.ActiveLatents);
        Assert.Equal((long)active * (active - 1) / 2, result.Pairs);
        Assert.True(inRange > 100, $"only {inRange} pairs in range: the test would say little");
        Assert.Equal(inRange, result.PairsInRange);
        // float32 cosine similarities may land one bin over from the float64 ones at an edge: allow that, nothing more.
        int moved = 0;
        for (int i = 0; i < DistsCosSim.XBins; i++)
            for (int j = 0; j < DistsCosSim.YBins; j++) moved += (int)Math.Abs(expected[i, j] - result.Counts[i, j]);
        Assert.True(moved <= 4, $"{moved} pair counts differ");   // at most two pairs one bin over
        Assert.Equal(result.Counts, DistsCosSim.Compute(w, means, layers, chunk: 1024).Counts);
    }

    [Fact]
    public void TheJsonHoldsEdgesAndCounts()
    {
        using var scope = NewDisposeScope();
        var w = tensor(new float[] { 1, 0, 1, 1, 0, 1 }, [3, 2]);
        var result = DistsCosSim.Compute(w, [0, 1, 2], 3);
        var path = Path.Combine(Fixtures.TempDir(), "cs.json");
        result.Save(path, new Dictionary<string, string> { ["model"] = "tiny" });
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path)).RootElement;
        Assert.Equal(65, json.GetProperty("x_edges").GetArrayLength());
        Assert.Equal(513, json.GetProperty("y_edges").GetArrayLength());
        Assert.Equal(64, json.GetProperty("counts").GetArrayLength());
        Assert.Equal(3, json.GetProperty("pairs").GetInt64());
        // Latents 0 and 2 are orthogonal (cos 0, Δ = 2): the one pair in range.
        Assert.Equal(1, json.GetProperty("pairs_in_range").GetInt64());
        Assert.Equal(1, result.Counts[DistsCosSim.XBins - 1, DistsCosSim.YBins / 2]);
        Assert.Equal("tiny", json.GetProperty("model").GetString());
    }
}

using Mlsae.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

/// <summary>The heatmap matrices: the reference's column order (mean layer descending), all-NaN columns
/// dropped, and the prompt view's shares.</summary>
public class LatentHeatmapTests
{
    /// <summary>Three layers, six latents; latents 1 and 4 never fire. One token per layer and slot:
    /// latent 0 only at layer 0, latent 2 at layers 1 and 2 (1 and 3: mean layer 1.75), latent 3 only at
    /// layer 2, latent 5 at layers 0 and 2 equally (mean layer 1).</summary>
    static LayerDists HandMade()
    {
        using var scope = NewDisposeScope();
        var dists = new LayerDists(3, 6);
        // [L, B, T, K] = [3, 1, 1, 2]
        long[] indices = [0, 5, /* layer 1 */ 2, 0, /* layer 2 */ 2, 3];
        float[] values = [2f, 1f, 1f, 0f, 3f, 4f];
        dists.Add(tensor(values, [3, 1, 1, 2]), tensor(indices, [3, 1, 1, 2]));
        var five = new LayerDists(3, 6);
        five.Add(tensor(new float[] { 0f, 0f, 0f, 0f, 1f, 0f }, [3, 1, 1, 2]), tensor(new long[] { 0, 0, 0, 0, 5, 0 }, [3, 1, 1, 2]));
        dists.Merge(five);
        return dists;
    }

    [Fact]
    public void TheDistsHeatmapSortsByMeanLayerDescendingAndDropsLatentsThatNeverFired()
    {
        var stats = HandMade().Stats();
        // Mean layers by hand: 0 → 0, 2 → (1·1 + 2·3)/4 = 1.75, 3 → 2, 5 → (0·1 + 2·1)/2 = 1; 1 and 4 NaN.
        Assert.Equal(1.75, stats.LayerMean[2], 12);
        Assert.Equal(1.0, stats.LayerMean[5], 12);
        Assert.True(double.IsNaN(stats.LayerMean[1]) && double.IsNaN(stats.LayerMean[4]));
        var heatmap = LatentHeatmap.FromDists(stats, [0, 2, 4], HeatmapOrder.Descending);
        Assert.Equal([3L, 2, 5, 0], heatmap.Latents);
        Assert.Equal([2, 1.75, 1, 0], heatmap.MeanLayers);
        Assert.Equal((3, 4), (heatmap.Values.GetLength(0), heatmap.Values.GetLength(1)));
        Assert.Equal([0, 0.25, 0.75], Column(heatmap.Values, 1));        // latent 2's probs
        Assert.Equal([0.5, 0, 0.5], Column(heatmap.Values, 2));          // latent 5's
        Assert.DoesNotContain(heatmap.Values.Cast<double>(), double.IsNaN);
        Assert.Equal([0L, 5, 2, 3], LatentHeatmap.FromDists(stats, [0, 2, 4], HeatmapOrder.Ascending).Latents);
    }

    [Fact]
    public void EqualMeanLayersKeepLatentOrderInEitherDirection()
    {
        using var scope = NewDisposeScope();
        var dists = new LayerDists(2, 3);
        dists.Add(tensor(new float[] { 1, 1, 1, 1, 1, 1 }, [2, 1, 1, 3]), tensor(new long[] { 2, 0, 1, 2, 0, 1 }, [2, 1, 1, 3]));
        Assert.Equal([0L, 1, 2], LatentHeatmap.FromDists(dists.Stats(), [0, 1], HeatmapOrder.Descending).Latents);
        Assert.Equal([0L, 1, 2], LatentHeatmap.FromDists(dists.Stats(), [0, 1], HeatmapOrder.Ascending).Latents);
    }

    [Fact]
    public void ThePromptHeatmapShowsEachLatentsSharePerLayerSummingToOne()
    {
        var prompt = SampleResults.Prompt() with
        {
            Latents =
            [
                new PromptAnalysis.Latent(7, 0.4, [3.5, 1.0, 0.0], [0.7777777777777778, 0.2222222222222222, 0.0]),
                new PromptAnalysis.Latent(2, 1.6, [0.5, 1.0, 2.5], [0.125, 0.25, 0.625]),
                new PromptAnalysis.Latent(9, 1.0, [1.0, 0.0, 1.0], [0.5, 0.0, 0.5]),
            ],
        };
        var probs = LatentHeatmap.FromPrompt(prompt, HeatmapView.Probs, HeatmapOrder.Descending);
        Assert.Equal([2L, 9, 7], probs.Latents);
        for (int c = 0; c < 3; c++) Assert.Equal(1.0, Column(probs.Values, c).Sum(), 12);
        Assert.Equal([0.125, 0.25, 0.625], Column(probs.Values, 0));
        var sums = LatentHeatmap.FromPrompt(prompt, HeatmapView.Sums, HeatmapOrder.Ascending);
        Assert.Equal([7L, 9, 2], sums.Latents);
        Assert.Equal([3.5, 1.0, 0.0], Column(sums.Values, 0));
    }

    static double[] Column(double[,] m, int c) => Enumerable.Range(0, m.GetLength(0)).Select(r => m[r, c]).ToArray();
}

using Mlsae.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

public class LayerSpanTests
{
    [Fact]
    public void SingleLayerShareCountsPairsActiveAtExactlyOneLayer()
    {
        using var scope = NewDisposeScope();
        // [L=3, B=1, T=2, K=2]. Token 0: latent 1 at layers 0 and 1 (its 0.0005 at layer 2 is below the
        // threshold, the 0.0 of latent 2 too), latent 4 at layer 1 only, latent 5 at layer 2 only.
        // Token 1: latent 7 at all three layers, latent 8 at layers 0 and 1, latent 9 negative (not active).
        // Active pairs: (0,1) (0,4) (0,5) (1,7) (1,8) = 5; at exactly one layer: (0,4) (0,5) = 2 → 0.4.
        var values = tensor(new float[] { 0.5f, 0.0f, 1.0f, 0.2f, 0.3f, 0.2f, 0.4f, 0.1f, 0.1f, 0.0005f, 0.2f, -0.3f }, [3, 1, 2, 2]);
        var indices = tensor(new long[] { 1, 2, 7, 8, 1, 4, 7, 8, 5, 1, 7, 9 }, [3, 1, 2, 2]);
        var span = new LayerSpan(3, threshold: 1e-3);
        span.Add(values, indices);
        Assert.Equal(5, span.ActivePairs);
        Assert.Equal(2, span.SingleLayerPairs);
        Assert.Equal(0.4, span.SingleLayerFraction, 12);
        span.Add(values, indices);   // counts add over batches
        Assert.Equal((10, 4), (span.ActivePairs, span.SingleLayerPairs));
        Assert.True(double.IsNaN(new LayerSpan(3, 1e-3).SingleLayerFraction));
    }

    [Fact]
    public void VariancesJsonRecordsTheShareAndReadsItBack()
    {
        var path = Path.Combine(Fixtures.TempDir(), "variances.json");
        var summary = new VarianceSummary { ExpVarLF = 1, ExpVarLTF = 0.1, VarL = 2, RelVarF = 0.5, RelVarT = 0.1, Batches = 3, SingleLayerFraction = 0.4, ActivePairs = 5 };
        summary.Save(path);
        Assert.Contains("\"single_layer_fraction\": 0.4", File.ReadAllText(path));
        var back = VarianceSummary.Load(path);
        Assert.Equal((0.4, 5L), (back.SingleLayerFraction, back.ActivePairs));
        Assert.Empty(back.Metadata);
    }
}

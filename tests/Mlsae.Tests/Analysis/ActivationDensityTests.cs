using Mlsae.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

/// <summary>Each latent's activation density: positive TopK values over all layers in fixed
/// log-spaced bins, saved with the dists, merged by adding, absent from files without it.</summary>
public class ActivationDensityTests
{
    [Fact]
    public void BinsAreLogSpacedWithTheEndsCatchingEverythingOutside()
    {
        var edges = ActivationDensity.Edges();
        Assert.Equal(ActivationDensity.Bins + 1, edges.Length);
        Assert.Equal(1e-3, edges[0], 1e-12);
        Assert.Equal(100, edges[^1], 1e-9);
        // 5 decades in 50 bins: 10 per decade, so 1 is the lower edge of bin 30 and 10 of bin 40.
        Assert.Equal(30, ActivationDensity.Bin(1.0001f));
        Assert.Equal(29, ActivationDensity.Bin(0.9999f));
        Assert.Equal(40, ActivationDensity.Bin(10.001f));
        Assert.Equal(0, ActivationDensity.Bin(1e-9f));
        Assert.Equal(ActivationDensity.Bins - 1, ActivationDensity.Bin(1e6f));
    }

    [Fact]
    public void PositiveValuesOfEveryLayerAreCountedPerLatentAndSurviveSaveLoadAndMerge()
    {
        using var scope = NewDisposeScope();
        // [L 2, B 1, T 2, K 2]: latent 1 gets 1.0001 (layer 0), 10.001 (layer 1) and a negative value (not counted).
        var values = tensor(new float[] { 1.0001f, 0.5f, -2f, 3f, 10.001f, 0.25f, 0.9999f, -1f }, [2, 1, 2, 2]);
        var indices = tensor(new long[] { 1, 0, 1, 2, 1, 0, 2, 0 }, [2, 1, 2, 2]);
        var dists = new LayerDists(2, 3);
        Assert.False(dists.HasDensity);
        dists.Add(values, indices);
        var latent1 = dists.Density(1)!;
        Assert.Equal(2, latent1.Sum());
        Assert.Equal(1, latent1[30]);
        Assert.Equal(1, latent1[40]);
        Assert.Equal(2, dists.Density(0)!.Sum());          // 0.5 and 0.25; -1 is not counted
        Assert.Equal(2, dists.Density(2)!.Sum());          // 3 and 0.9999

        var path = Path.Combine(Fixtures.TempDir(), "d.safetensors");
        dists.Save(path, new Dictionary<string, string>());
        var (loaded, meta) = LayerDists.Load(path);
        Assert.Equal("-3", meta["density_log10_min"]);
        for (int f = 0; f < 3; f++) Assert.Equal(dists.Density(f), loaded.Density(f));
        loaded.Merge(dists);
        Assert.Equal(latent1.Select(c => 2 * c), loaded.Density(1));
    }

    [Fact]
    public void DistsWithoutDensityLoadWithoutItAndAMergeWithThemHasNone()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Fixtures.TempDir(), "old.safetensors");
        var fixedPoint = zeros([2, 3, 2], ScalarType.Int64);
        Mlsae.IO.SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["counts"] = zeros([2, 3], ScalarType.Int64), ["totals_fixed64"] = fixedPoint },
            new Dictionary<string, string> { ["tokens"] = "0" });
        var (old, _) = LayerDists.Load(path);
        Assert.False(old.HasDensity);
        Assert.Null(old.Density(0));
        var fresh = new LayerDists(2, 3);
        fresh.Add(ones([2, 1, 1, 1]), zeros([2, 1, 1, 1], ScalarType.Int64));
        fresh.Merge(old);
        Assert.False(fresh.HasDensity);
    }
}

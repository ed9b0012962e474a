using Mlsae.Analysis;
using Mlsae.Reports;
using Xunit;

namespace Mlsae.Tests.Reports;

/// <summary>Each figure drawn from a hand-made result: the size it promises and not blank.</summary>
public class FiguresTests
{
    [Fact]
    public void TheDistsFiguresAreDrawnBesideTheDistsFile()
    {
        var path = Path.Combine(Fixtures.TempDir(), "d.safetensors");
        SampleResults.Dists().Save(path, SampleResults.DistsMetadata());
        var written = RunFigures.Dists(path);
        Assert.Equal([DistsFiles.Stem(path) + "_heatmap.png", DistsFiles.Stem(path) + "_histogram.png", DistsFiles.Stem(path) + "_histogram_noninteger.png"], written);
        foreach (var png in written) Png.AssertImage(png, Figures.Width, Figures.Height);
        var ascending = Path.Combine(Fixtures.TempDir(), "a.safetensors");
        RunFigures.Dists(SampleResults.Dists(), SampleResults.DistsMetadata(), ascending, HeatmapOrder.Ascending);
        Png.AssertImage(DistsFiles.Stem(ascending) + "_heatmap.png", Figures.Width, Figures.Height);
        Assert.NotEqual(File.ReadAllBytes(written[0]), File.ReadAllBytes(DistsFiles.Stem(ascending) + "_heatmap.png"));
    }

    [Fact]
    public void TheCosSimHistogramIsDrawn()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var decoder = TorchSharp.torch.randn([64, 16], generator: TorchSharp.torch.manual_seed(1));
        var means = Enumerable.Range(0, 64).Select(i => (i % 8) * 2 / 7.0).ToArray();
        var path = Path.Combine(Fixtures.TempDir(), "cos.png");
        DistsFigures.CosSim(DistsCosSim.Compute(decoder, means, 3, cosRange: 0.5), "Mean-layer difference vs decoder cosine similarity — tiny", path);
        Png.AssertImage(path, Figures.Width, Figures.Height);
    }

    [Fact]
    public void TheLayerStdFiguresAreDrawn()
    {
        var dists = SampleResults.Dists();
        var convergence = new LayerStdConvergence(1, SampleResults.DistsMetadata());
        convergence.Observe(0, dists);
        convergence.Observe(1, dists);
        var steps = Path.Combine(Fixtures.TempDir(), "steps.png");
        DistsFigures.LayerStdSteps(convergence, "layer_std while reading the data — tiny", steps);
        Png.AssertImage(steps, 900, 500);
        var row = LayerStdRow.From(dists, SampleResults.DistsMetadata(), "a.safetensors");
        var table = Path.Combine(Fixtures.TempDir(), "table.png");
        DistsFigures.LayerStdTable([row, row with { Mean = row.Mean / 2, ExpansionFactor = "8", K = "4" }], table);
        Png.AssertImage(table, 900, 500);
    }

    [Fact]
    public void DistsWhereNoLatentFiredHaveNoFigures()
    {
        var path = Path.Combine(Fixtures.TempDir(), "d.safetensors");
        Assert.Empty(RunFigures.Dists(new LayerDists(3, 8), SampleResults.DistsMetadata(), path));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(path)!, "*.png"));
    }

    [Fact]
    public void DistsWhoseLayersDisagreeWithTheirMetadataAreAnError()
    {
        var path = Path.Combine(Fixtures.TempDir(), "d.safetensors");
        var metadata = SampleResults.DistsMetadata();
        metadata["layers"] = "0,1";
        var e = Assert.Throws<MlsaeException>(() => RunFigures.Dists(SampleResults.Dists(), metadata, path));
        Assert.Contains("names 2 layers but the dists have 3", e.Message);
    }

    [Fact]
    public void ThePromptHeatmapReplacesTheJsonExtension()
    {
        var path = Path.Combine(Fixtures.TempDir(), "p.json");
        var png = RunFigures.Prompt(SampleResults.Prompt(), path);
        Assert.Equal(Path.ChangeExtension(path, ".png"), png);
        Png.AssertImage(png!, Figures.Width, Figures.Height);
        var sums = RunFigures.Prompt(SampleResults.Prompt(), Path.Combine(Fixtures.TempDir(), "s.json"), HeatmapView.Sums, HeatmapOrder.Ascending);
        Png.AssertImage(sums!, Figures.Width, Figures.Height);
        Assert.Null(RunFigures.Prompt(SampleResults.Prompt() with { Latents = [] }, Path.Combine(Fixtures.TempDir(), "q.json")));
    }

    [Fact]
    public void EvalBarsAreDrawnForTheMetricsPresent()
    {
        var dir = Fixtures.TempDir();
        var written = RunFigures.Eval(SampleResults.Eval(), "tiny-model", dir);
        Assert.Equal(["fvu", "l0", "delta_ce_loss"], written.Select(p => Path.GetFileNameWithoutExtension(p)["eval_".Length..]));
        foreach (var png in written) Png.AssertImage(png, 900, 500);
    }

    [Fact]
    public void CosineByLayerDrawsOnePointPerAdjacentPair()
    {
        var path = Path.Combine(Fixtures.TempDir(), "cos.png");
        Figures.CosineByLayer([(0.9, 0.01, 0.1, 0.01), (0.8, 0.04, 0.2, 0.02)], [0, 1, 2], "Adjacent-layer cosine similarity — tiny", path);
        Png.AssertImage(path, 900, 500);
    }
}

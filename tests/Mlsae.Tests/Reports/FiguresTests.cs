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
        Assert.Equal([DistsFiles.Stem(path) + "_heatmap.png", DistsFiles.Stem(path) + "_layer_mean.png"], written);
        foreach (var png in written) Png.AssertImage(png, Figures.Width, Figures.Height);
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

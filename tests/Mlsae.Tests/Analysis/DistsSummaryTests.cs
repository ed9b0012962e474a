using System.Globalization;
using Mlsae.Analysis;
using Xunit;

namespace Mlsae.Tests.Analysis;

public class DistsSummaryTests
{
    [Fact]
    public void SaveThenLoadGivesTheSameSummary() =>
        SampleResults.AssertRoundTrips(DistsSummary.From(SampleResults.Dists(), SampleResults.DistsMetadata()), (s, p) => s.Save(p), DistsSummary.Load, "dists.json");

    [Fact]
    public void TheFilesBesideTheTensorsHoldTheSummaryAndOneRowPerLatent()
    {
        var dir = Fixtures.TempDir();
        var path = Path.Combine(dir, "d.safetensors");
        var dists = SampleResults.Dists();
        var summary = DistsFiles.Save(dists, SampleResults.DistsMetadata(), path);
        Assert.Equal((4L, "0,2,3", 8, 5), (summary.Tokens, summary.Layers, summary.NLatents, summary.ActiveLatents));
        Assert.Equal(["model", "sae", "data", "max_length", "batch_size", "shard"], summary.Metadata.Keys);
        Assert.Equivalent(summary, DistsSummary.Load(Path.Combine(dir, "d.json")), strict: true);
        var rows = File.ReadAllLines(Path.Combine(dir, "d.csv"));
        Assert.Equal("latent,count,total,layer_mean,layer_var,layer_std", rows[0]);
        Assert.Equal(1 + 8, rows.Length);
        // Latent 4 fires at every position of every layer with 1/(l+1): totals 4, 2, 4/3.
        var latent4 = rows[5].Split(',');
        Assert.Equal(("4", "12"), (latent4[0], latent4[1]));
        Assert.Equal(4 + 2 + 4 / 3.0, double.Parse(latent4[2], CultureInfo.InvariantCulture), 5);
        Assert.Equal("7,0,0,NaN,NaN,NaN", rows[8]);
        var (loaded, _) = LayerDists.Load(path);
        Assert.Equal(dists.Tokens, loaded.Tokens);
    }

    [Theory]
    [InlineData("""{"tokens": 1, "layers": "0", "n_latents": 2, "active_latents": 1, "layer_std": [0]}""", "'layer_std' must be an object, found an array")]
    [InlineData("""{"tokens": 1, "layers": "0", "n_latents": 2, "active_latents": 1, "layer_std": {"mean": 0, "var": "x", "std": 0, "sem": 0}}""", "'layer_std.var' must be a number or null, found a string")]
    [InlineData("""{"tokens": 1, "layers": [0], "n_latents": 2, "active_latents": 1, "layer_std": {"mean": 0, "var": 0, "std": 0, "sem": 0}}""", "'layers' must be a string, found an array")]
    public void AWrongShapedFileIsAnErrorNamingTheFileAndTheField(string text, string expected) =>
        SampleResults.AssertRejects(DistsSummary.Load, "dists.json", text, expected);

    [Fact]
    public void ATruncatedFileIsAnErrorNamingTheFile() =>
        SampleResults.AssertRejectsTruncated(DistsSummary.From(SampleResults.Dists(), SampleResults.DistsMetadata()).Save, DistsSummary.Load, "dists.json");
}

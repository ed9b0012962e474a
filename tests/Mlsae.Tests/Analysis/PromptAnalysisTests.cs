using Mlsae.Analysis;
using Xunit;

namespace Mlsae.Tests.Analysis;

public class PromptAnalysisTests
{
    [Fact]
    public void SaveThenLoadGivesTheSameAnalysis() =>
        SampleResults.AssertRoundTrips(SampleResults.Prompt(), (a, p) => a.Save(p), PromptAnalysis.Load, "prompt.json");

    [Fact]
    public void WithNoFiringLatentTheSpanStatisticsAreNull()
    {
        var empty = SampleResults.Prompt() with { LayersPerTokenLatentMean = double.NaN, SingleLayerFraction = double.NaN, Latents = [] };
        SampleResults.AssertRoundTrips(empty, (a, p) => a.Save(p), PromptAnalysis.Load, "prompt.json");
        var path = Path.Combine(Fixtures.TempDir(), "prompt.json");
        empty.Save(path);
        Assert.Contains("\"layers_per_token_latent_mean\": null,", File.ReadAllText(path));
    }

    [Fact]
    public void ActsByLayerHasALayerPerRowAndALatentPerColumn()
    {
        var matrix = SampleResults.Prompt().ActsByLayer();
        Assert.Equal((3, 2), (matrix.GetLength(0), matrix.GetLength(1)));
        Assert.Equal((3.5, 2.5), (matrix[0, 0], matrix[2, 1]));
    }

    [Theory]
    [InlineData("""["The cat"]""", "expected a JSON object, found an array")]
    [InlineData("""{"prompt": "x", "model": "m", "sae": "s", "layers": [0], "layers_per_token_latent_mean": 1, "single_layer_fraction": 1, "latents": [{"latent": 1, "mean_layer": 0, "acts": [1, 2], "probs": [1]}], "tokens": []}""",
        "'latents[0].acts' has 2 values for 1 layers")]
    [InlineData("""{"prompt": "x", "model": "m", "sae": "s", "layers": [0], "layers_per_token_latent_mean": 1, "single_layer_fraction": 1, "latents": [], "tokens": [{"token_id": 1, "token": "x", "latents": [{"layer": 0, "latent": 1, "act": "big"}]}]}""",
        "'tokens[0].latents[0].act' must be a number, found a string")]
    [InlineData("""{"prompt": "x", "model": "m", "sae": "s", "layers": [0], "layers_per_token_latent_mean": 1, "single_layer_fraction": 1, "latents": [], "tokens": [7]}""",
        "'tokens[0]' must be an object, found a number")]
    [InlineData("""{"prompt": 3}""", "'prompt' must be a string, found a number")]
    public void AWrongShapedFileIsAnErrorNamingTheFileAndTheField(string text, string expected) =>
        SampleResults.AssertRejects(PromptAnalysis.Load, "prompt.json", text, expected);

    [Fact]
    public void ATruncatedFileIsAnErrorNamingTheFile() =>
        SampleResults.AssertRejectsTruncated(SampleResults.Prompt().Save, PromptAnalysis.Load, "prompt.json");
}

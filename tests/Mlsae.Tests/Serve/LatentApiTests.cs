using Mlsae.Analysis;
using System.Net;
using System.Text.Json;
using Mlsae.Runs;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.Serve;

/// <summary>/api/info, /api/latents, /api/latent/{i}, /api/search, /api/run, and the run `train` leaves for `serve`.</summary>
[Collection(ServeCollection.Name)]
public sealed class LatentApiTests(ServeFixture serve)
{
    [Fact]
    public async Task Train_LeavesAnExamplesDatabaseAndPrintsTheServeCommand()
    {
        Assert.True(File.Exists(Path.Combine(serve.RunFolder, Run.ExamplesFile)));
        Assert.Contains($"mlsae serve --sae {serve.RunFolder}", serve.TrainOutput);
        var info = await ServeApi.Get(serve.Client, "/api/info");
        Assert.Equal(6, info.Json.GetProperty("model").GetProperty("layers").GetInt32());
        Assert.Equal(256, info.Json.GetProperty("sae").GetProperty("latents").GetInt32());
        Assert.Equal(4, info.Json.GetProperty("sae").GetProperty("k").GetInt32());
        Assert.True(info.Json.GetProperty("data").GetProperty("examples").GetBoolean());
        Assert.True(info.Json.GetProperty("data").GetProperty("dists").GetBoolean());
    }

    [Fact]
    public async Task Latents_SortByMeanLayerAndFilter()
    {
        var page = await ServeApi.Get(serve.Client, "/api/latents?sort=mean_layer&limit=5000");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        var means = page.Json.GetProperty("latents").EnumerateArray().Select(r => r.GetProperty("mean_layer"))
            .Where(m => m.ValueKind == JsonValueKind.Number).Select(m => m.GetDouble()).ToList();
        Assert.NotEmpty(means);
        Assert.Equal(means.Order(), means);
        var frequent = await ServeApi.Get(serve.Client, "/api/latents?min_freq=0.01");
        Assert.All(frequent.Json.GetProperty("latents").EnumerateArray(), r => Assert.True(r.GetProperty("frequency").GetDouble() >= 0.01));
        var one = await ServeApi.Get(serve.Client, "/api/latents?q=7");
        Assert.Contains(one.Json.GetProperty("latents").EnumerateArray(), r => r.GetProperty("latent").GetInt32() == 7);
    }

    [Fact]
    public async Task Latent_HasLayerDistributionLogitsAndExamples()
    {
        var top = (await ServeApi.Get(serve.Client, "/api/latents?sort=frequency&limit=1")).Json.GetProperty("latents")[0].GetProperty("latent").GetInt32();
        var latent = await ServeApi.Get(serve.Client, $"/api/latent/{top}");
        Assert.Equal(HttpStatusCode.OK, latent.Status);
        var shares = latent.Json.GetProperty("shares").EnumerateArray().Select(s => s.GetDouble()).ToArray();
        Assert.Equal(6, shares.Length);
        Assert.True(Math.Abs(shares.Sum() - 1) < 1e-9, "shares sum to 1 (tolerance 1e-9)");
        Assert.Equal(16, latent.Json.GetProperty("logits").GetProperty("top").GetArrayLength());
        var topLogits = latent.Json.GetProperty("logits").GetProperty("top").EnumerateArray().Select(x => x.GetProperty("logit").GetDouble()).ToArray();
        var bottom = latent.Json.GetProperty("logits").GetProperty("bottom").EnumerateArray().Select(x => x.GetProperty("logit").GetDouble()).ToArray();
        Assert.True(topLogits[^1] >= bottom[^1]);
        var byLayer = latent.Json.GetProperty("examples").GetProperty("by_layer");
        Assert.Equal(6, byLayer.GetArrayLength());
        Assert.Contains(byLayer.EnumerateArray(), g => g.GetProperty("examples").GetArrayLength() > 0);
        Assert.NotEmpty(latent.Json.GetProperty("examples").GetProperty("by_quantile").EnumerateArray());
        // The density is over all the data the run's dists read (train writes it), in log bins: its
        // counts are the latent's positive selections, at most its selections over all layers.
        var histogram = latent.Json.GetProperty("density").GetProperty("histogram");
        Assert.Equal("dists", histogram.GetProperty("source").GetString());
        Assert.Equal(ActivationDensity.Bins + 1, histogram.GetProperty("edges").GetArrayLength());
        long positive = histogram.GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64());
        long selections = latent.Json.GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64());
        Assert.InRange(positive, 1, selections);
    }

    [Fact]
    public async Task Search_FindsTheLatentsOfAStoredToken()
    {
        var latent = (await ServeApi.Get(serve.Client, "/api/latents?sort=frequency&limit=1")).Json.GetProperty("latents")[0];
        var token = latent.GetProperty("top_token").GetString()!;
        var found = await ServeApi.Get(serve.Client, $"/api/search?token={Uri.EscapeDataString(token)}");
        Assert.Equal(HttpStatusCode.OK, found.Status);
        Assert.Contains(found.Json.GetProperty("latents").EnumerateArray(), r => r.GetProperty("latent").GetInt32() == latent.GetProperty("latent").GetInt32());
    }

    [Fact]
    public async Task Run_HasTheMetricsAndFigures()
    {
        var run = await ServeApi.Get(serve.Client, "/api/run");
        Assert.Equal(HttpStatusCode.OK, run.Status);
        Assert.Equal("layer", run.Json.GetProperty("eval").GetProperty("headers")[0].GetString());
        Assert.Contains(run.Json.GetProperty("figures").EnumerateArray(), f => f.GetProperty("name").GetString() == "dists_heatmap.png");
    }

    [Fact]
    public void ServeCommand_RejectsBadFlagsWithOneLine()
    {
        var r = CliRunner.Run("serve", "--sae", serve.RunFolder, "--port", "70000");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: --port must be 0..65535, got 70000", r.Error.Trim());
        var missing = CliRunner.Run("serve", "--sae", serve.RunFolder, "--examples", "/nonexistent/examples.db", "--port", "0");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("--examples: /nonexistent/examples.db: file not found", missing.Error);
    }
}

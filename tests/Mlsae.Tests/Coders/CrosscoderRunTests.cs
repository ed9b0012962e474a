using System.Net;
using System.Text.Json;
using Mlsae.Analysis;
using Mlsae.IO;
using Mlsae.Serve;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Serve;
using Xunit;

namespace Mlsae.Tests.Coders;

/// <summary><c>train --kind crosscoder</c> on the embedded default, and every command reading it.</summary>
public class CrosscoderRunTests
{
    const int F = 256;   // x2 of the embedded model's d_model 128

    [Fact]
    public void WithoutKItGetsLTimesTheMlsaeDefaultAndRunJsonRecordsIt()
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var args = KindRuns.TrainArgs("crosscoder", run, 2 * 64, "--layers", "1,2").ToList();
        args.RemoveRange(args.IndexOf("-k"), 2);
        var r = CliRunner.Run(args.ToArray());
        Assert.True(r.ExitCode == 0, r.Error);
        // The embedded run's MLSAE default is k 16: two layers make 32 codes per token.
        Assert.Contains("using 2 × 16 = 32", r.Error);
        Assert.Equal(32, JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))).RootElement.GetProperty("k").GetInt32());
        Assert.Equal(32, JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "config.json"))).RootElement.GetProperty("k").GetInt32());
        Assert.Contains("32 active codes per token", File.ReadAllText(Path.Combine(run, "summary.md")));

        var quirks = CliRunner.Run(KindRuns.TrainArgs("crosscoder", Path.Combine(Fixtures.TempDir(), "q"), 64, "--reference-quirks", "true"));
        Assert.Equal(1, quirks.ExitCode);
        Assert.Contains("the reference has no crosscoder", quirks.Error);
        var unknown = CliRunner.Run(KindRuns.TrainArgs("transcoder", Path.Combine(Fixtures.TempDir(), "u"), 64));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--kind: 'transcoder' is not a sparse coder this version trains (mlsae, per-layer, crosscoder)", unknown.Error);
    }

    [Fact]
    public async Task AResumedCrosscoderEndsAsTheStraightOneAndEveryAnalysisAndTheExplorerReadIt()
    {
        var run = KindRuns.AssertResumeEndsAsTheStraightRun("crosscoder", "model.safetensors");
        Assert.Contains("crosscoder: 256 latents over 6 layers, k 4 per token", File.ReadAllText(Path.Combine(run, "summary.md")));
        Assert.Contains("<h1>Crosscoder on embedded</h1>", File.ReadAllText(Path.Combine(run, "report.html")));
        Assert.True(File.Exists(Path.Combine(run, "dists_decoder_share_heatmap.png")));

        // Dists: every token's K latents counted at every layer, valued by their reconstruction there;
        // beside them the decoder-norm share of each latent per layer.
        var (dists, metadata) = LayerDists.Load(Path.Combine(run, "dists.safetensors"));
        Assert.Equal("crosscoder", metadata["kind"]);
        for (int f = 0; f < F; f++)
            for (int l = 1; l < 6; l++) Assert.Equal(dists.Count(0, f), dists.Count(l, f));
        var share = dists.DecoderShare!;
        for (int f = 0; f < F; f++) Assert.True(Math.Abs(Enumerable.Range(0, 6).Sum(l => share[l, f]) - 1) < 1e-9, "decoder shares sum to 1 (tolerance 1e-9)");
        Assert.EndsWith(",decoder_norm_share_5", File.ReadLines(Path.Combine(run, "dists.csv")).First());
        var examples = ExamplesDatabase.ReadMetadata(Path.Combine(run, "examples.db"));
        Assert.Equal("true", examples[ExamplesDatabase.PerLatentKey]);
        Assert.All(ExamplesDatabase.Read(Path.Combine(run, "examples.db"), [ExamplesDatabase.AllLayers]), e => Assert.Equal(0, e.Layer));
        var prompt = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "prompt.json"))).RootElement;
        Assert.Equal(6, prompt.GetProperty("latents")[0].GetProperty("probs").GetArrayLength());

        var dir = Fixtures.TempDir();
        foreach (var (command, output) in new[] { ("eval", "eval.json"), ("dists", "dists.safetensors"), ("variances", "variances.json"), ("examples", "examples.db"), ("latents", "latents.safetensors") })
        {
            var r = CliRunner.Run(command, "--sae", run, "--max-tokens", "128", "--batch-size", "2", "--out", Path.Combine(dir, output));
            Assert.True(r.ExitCode == 0, $"{command}: {r.Error}");
        }
        using (var latents = SafeTensorsFile.Open(Path.Combine(dir, "latents.safetensors")))
        {
            Assert.Equal(new long[] { 6, 4, 32, 4 }, latents.Shape("values"));        // 2 batches of 2 sequences
            Assert.Equal(new long[] { 4, 32, 4 }, latents.Shape("token_values"));
            // The per-layer codes are the token's latents at every layer.
            Assert.Equal(latents.Read("token_indices").data<long>().ToArray(), latents.Read("indices")[3].contiguous().data<long>().ToArray());
        }
        Assert.NotNull(LayerDists.Load(Path.Combine(dir, "dists.safetensors")).Dists.DecoderShare);
        var merged = CliRunner.Run("examples", "merge", Path.Combine(dir, "examples.db"), "--out", Path.Combine(dir, "merged.db"));
        Assert.True(merged.ExitCode == 0, merged.Error);
        Assert.Equal("true", ExamplesDatabase.ReadMetadata(Path.Combine(dir, "merged.db"))[ExamplesDatabase.PerLatentKey]);
        var mmcs = CliRunner.Run("mmcs", "--sae", run, "--layer", "5", "--out", Path.Combine(dir, "mmcs.json"));
        Assert.True(mmcs.ExitCode == 0, mmcs.Error);
        var cosSim = CliRunner.Run("dists", "cos-sim", "--sae", run, "--layer", "5", "--dists", Path.Combine(run, "dists.safetensors"), "--out", Path.Combine(dir, "cos.json"));
        Assert.True(cosSim.ExitCode == 0, cosSim.Error);

        // The explorer: a latent page with both shares, examples in one group, logits of its main layer; steering at a layer.
        using var explorer = ServeFixture.Open(run);
        await using var server = await ExplorerServer.StartAsync(explorer, new ServeOptions { Port = 0 });
        using var client = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(60) };
        int top = (await ServeApi.Get(client, "/api/latents?sort=frequency&limit=1")).Json.GetProperty("latents")[0].GetProperty("latent").GetInt32();
        var latent = await ServeApi.Get(client, $"/api/latent/{top}");
        Assert.Equal(HttpStatusCode.OK, latent.Status);
        var decoderShare = latent.Json.GetProperty("decoder_share").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Assert.Equal(Enumerable.Range(0, 6).Select(l => share[l, top]), decoderShare);
        int logitsLayer = latent.Json.GetProperty("logits").GetProperty("layer").GetInt32();
        Assert.Equal(Array.IndexOf(decoderShare, decoderShare.Max()), logitsLayer);
        var groups = latent.Json.GetProperty("examples").GetProperty("by_layer");
        Assert.Equal(JsonValueKind.Null, Assert.Single(groups.EnumerateArray()).GetProperty("layer").ValueKind);
        Assert.NotEmpty(groups[0].GetProperty("examples").EnumerateArray());
        var steer = await ServeApi.Post(client, "/api/prompt/steer", new { text = "the cat sat", layer = 2, latent = top, factor = 4.0 });
        Assert.Equal(HttpStatusCode.OK, steer.Status);
        Assert.True(steer.Json.GetProperty("positions")[0].GetProperty("increases")[0].GetProperty("logit").GetDouble() > 0, "steering moves the logits");
    }
}

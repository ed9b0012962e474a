using System.Net;
using System.Text.Json;
using Mlsae.IO;
using Mlsae.Metrics;
using Mlsae.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Serve;

/// <summary>/api/prompt and its reconstruct and steer variants against the Core code paths they must equal.</summary>
[Collection(ServeCollection.Name)]
public sealed class PromptApiTests(ServeFixture serve)
{
    const string Text = "The old keys that the baker found near the river are red.";

    [Fact]
    public async Task Prompt_EqualsTheLatentsCommandReluAppliedAndSorted()
    {
        // 32 ids (the run's max_length) from a longer text, so `latents` reads exactly one sequence.
        var ids = serve.Explorer.Tokenizer!.Encode(string.Concat(Enumerable.Repeat(Text + " ", 4))).Take(32).Select(i => (long)i).ToArray();
        Assert.Equal(32, ids.Length);
        var dir = Fixtures.TempDir();
        var data = Path.Combine(dir, "seqs.jsonl");
        File.WriteAllText(data, JsonSerializer.Serialize(new { input_ids = ids }) + "\n");
        var output = Path.Combine(dir, "latents.safetensors");
        var r = CliRunner.Run("latents", "--sae", serve.RunFolder, "--data", data, "--max-tokens", "32", "--out", output);
        Assert.True(r.ExitCode == 0, r.Error);
        var tensors = Fixtures.ReadAll(output);
        var values = tensors["values"].data<float>().ToArray();          // [L, 1, T, K] raw
        var indices = tensors["indices"].data<long>().ToArray();
        int layers = (int)tensors["values"].shape[0], k = (int)tensors["values"].shape[3];
        foreach (var t in tensors.Values) t.Dispose();

        var answer = await ServeApi.Post(serve.Client, "/api/prompt", new { input_ids = ids });
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        var json = answer.Json;
        Assert.Equal(ids, json.GetProperty("tokens").EnumerateArray().Select(x => x.GetProperty("id").GetInt64()));
        Assert.Equal(serve.Explorer.Model.Layers, json.GetProperty("layers").EnumerateArray().Select(x => x.GetInt32()));
        var latents = json.GetProperty("latents");
        Assert.Equal(layers, latents.GetArrayLength());
        for (int l = 0; l < layers; l++)
            for (int t = 0; t < ids.Length; t++)
            {
                int at = (l * ids.Length + t) * k;
                var expected = Enumerable.Range(0, k).Select(j => (Index: indices[at + j], Value: Math.Max(0f, values[at + j])))
                    .OrderByDescending(p => p.Value).ThenBy(p => p.Index).ToArray();
                var codes = latents[l][t];
                Assert.Equal(expected.Select(p => p.Index), codes.GetProperty("indices").EnumerateArray().Select(x => x.GetInt64()));
                var got = codes.GetProperty("values").EnumerateArray().Select(x => x.GetDouble()).ToArray();
                for (int j = 0; j < k; j++) Assert.True(Math.Abs(got[j] - expected[j].Value) <= 1e-6, $"layer {l} position {t} slot {j}: {got[j]} vs {expected[j].Value} (tolerance 1e-6)");
            }
        Assert.Equal(ids.Length, json.GetProperty("logits").GetArrayLength());
        Assert.Equal(16, json.GetProperty("logits")[0].GetArrayLength());
        Assert.True(json.GetProperty("loss").GetDouble() > 0);
        Assert.Equal(layers, json.GetProperty("histograms").GetArrayLength());
    }

    [Fact]
    public async Task Prompt_OneTokenWorksWithoutALoss()
    {
        var answer = await ServeApi.Post(serve.Client, "/api/prompt", new { input_ids = new[] { 42 } });
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(1, answer.Json.GetProperty("tokens").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, answer.Json.GetProperty("loss").ValueKind);
        var steer = await ServeApi.Post(serve.Client, "/api/prompt/steer", new { input_ids = new[] { 42 }, layer = 0, latent = 0, factor = 3.0 });
        Assert.Equal(HttpStatusCode.OK, steer.Status);
        Assert.Equal(JsonValueKind.Null, steer.Json.GetProperty("delta_ce").ValueKind);
    }

    [Fact]
    public async Task Steer_FactorZeroChangesNothing_AndANonzeroFactorDoes()
    {
        var prompt = await ServeApi.Post(serve.Client, "/api/prompt", new { text = Text });
        int latent = (int)prompt.Json.GetProperty("latents")[0][3].GetProperty("indices")[0].GetInt64();
        foreach (var layer in serve.Explorer.Model.Layers)
        {
            var zero = await ServeApi.Post(serve.Client, "/api/prompt/steer", new { text = Text, layer, latent, factor = 0.0 });
            Assert.Equal(HttpStatusCode.OK, zero.Status);
            Assert.Equal(0, zero.Json.GetProperty("delta_ce").GetDouble());
            foreach (var position in zero.Json.GetProperty("positions").EnumerateArray())
                foreach (var change in position.GetProperty("increases").EnumerateArray().Concat(position.GetProperty("decreases").EnumerateArray()))
                    Assert.Equal(0, change.GetProperty("logit").GetDouble());
            // Run on from the layer unchanged, the model predicts what the full forward predicts (tolerance 1e-4).
            var before = prompt.Json.GetProperty("logits");
            var after = zero.Json.GetProperty("positions");
            for (int t = 0; t < before.GetArrayLength(); t++)
            {
                Assert.Equal(before[t][0].GetProperty("id").GetInt64(), after[t].GetProperty("logits")[0].GetProperty("id").GetInt64());
                Assert.True(Math.Abs(before[t][0].GetProperty("logit").GetDouble() - after[t].GetProperty("logits")[0].GetProperty("logit").GetDouble()) < 1e-4);
            }
        }
        var steered = await ServeApi.Post(serve.Client, "/api/prompt/steer", new { text = Text, layer = 0, latent, factor = 20.0 });
        Assert.True(steered.Json.GetProperty("positions")[3].GetProperty("increases")[0].GetProperty("logit").GetDouble() > 1e-3);
        Assert.Equal(latent, steered.Json.GetProperty("latent").GetInt32());
    }

    [Fact]
    public async Task Reconstruct_DeltaCeEqualsTheDownstreamMetricOfThatLayer()
    {
        var explorer = serve.Explorer;
        var ids = explorer.Tokenizer!.Encode(Text).Select(i => (long)i).ToArray();
        int row = explorer.Model.Layers.Length - 1, layer = explorer.Model.Layers[row];
        var answer = await ServeApi.Post(serve.Client, "/api/prompt/reconstruct", new { text = Text, layer });
        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(ids.Length, answer.Json.GetProperty("positions").GetArrayLength());
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = explorer.Model.Stream.Tokens([ids]);
        var inputs = explorer.Model.Stream.Forward(tokens);
        using var output = explorer.Sae.Forward(inputs, training: false);
        var metrics = DownstreamMetrics.Compute(explorer.Model.Model, explorer.Model.Layers, inputs, output.Recons, tokens);
        double delta = answer.Json.GetProperty("delta_ce").GetDouble();
        Assert.True(Math.Abs(delta - metrics.DeltaLoss[row]) < 1e-5, $"ΔCE {delta} vs downstream {metrics.DeltaLoss[row]} (tolerance 1e-5)");
    }
}

using System.Text.Json.Nodes;
using Mlsae.IO;
using Mlsae.Tests.Lens;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Cli;

/// <summary><c>--tuned-lens</c> through the real commands: train records the lens, eval reads it from
/// the run unasked, an explicit lens wins with a line, activations writes lens-space vectors, and a
/// reference SAE trained on lens vectors never runs without one.</summary>
public class TunedLensCommandTests
{
    [Fact]
    public void TrainRecordsTheLensAndEveryReaderUsesIt()
    {
        var data = TinyRun.Data(24);
        var lens = LensFolder.Random(2, 32, seed: 2);
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run([.. TinyRun.TrainArgs(data, run, 2), "--tuned-lens", lens]);
        Assert.True(r.ExitCode == 0, r.Error);
        var recorded = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "run.json")))!["tuned_lens"]!;
        Assert.Equal(Path.GetFullPath(lens), recorded["source"]!.GetValue<string>());
        Assert.Equal(64, recorded["sha256"]!.GetValue<string>().Length);
        Assert.Equal("tuned_lens", JsonNode.Parse(File.ReadAllText(Path.Combine(run, "eval.json")))!["reconstruction_space"]!.GetValue<string>());

        var evalPath = Path.Combine(Fixtures.TempDir(), "eval.json");
        r = CliRunner.Run("eval", "--sae", run, "--data", data, "--max-tokens", "64", "--out", evalPath);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.DoesNotContain("instead of", r.Error);
        var eval = JsonNode.Parse(File.ReadAllText(evalPath))!;
        Assert.Equal(recorded["sha256"]!.GetValue<string>(), eval["tuned_lens"]!["sha256"]!.GetValue<string>());

        // An explicit lens wins, and says so.
        r = CliRunner.Run("eval", "--sae", run, "--data", data, "--max-tokens", "64", "--out", evalPath, "--tuned-lens", LensFolder.Zero(2, 32));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("instead of the run's recorded lens", r.Error);

        // A lens for another model shape is an error naming both.
        r = CliRunner.Run("eval", "--sae", run, "--data", data, "--max-tokens", "64", "--out", evalPath, "--tuned-lens", LensFolder.Zero(3, 32));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("num_hidden_layers 3 and d_model 32", r.Error);
        Assert.Contains("has num_hidden_layers 2 and hidden_size 32", r.Error);
    }

    [Fact]
    public void ActivationsWritesLensSpaceHiddenStatesAndRecordsTheLens()
    {
        var data = TinyRun.Data(4);
        var plainPath = Path.Combine(Fixtures.TempDir(), "plain.safetensors");
        var lensPath = Path.Combine(Fixtures.TempDir(), "lens.safetensors");
        var b = new float[2, 32];
        for (int j = 0; j < 32; j++) { b[0, j] = 1; b[1, j] = 2; }
        var lens = LensFolder.Write(new float[2, 32, 32], b);
        Assert.Equal(0, CliRunner.Run("activations", "--model", TinyRun.Model, "--data", data, "--max-length", "32", "--limit", "2", "--out", plainPath).ExitCode);
        var r = CliRunner.Run("activations", "--model", TinyRun.Model, "--data", data, "--max-length", "32", "--limit", "2", "--out", lensPath, "--tuned-lens", lens);
        Assert.True(r.ExitCode == 0, r.Error);
        using var scope = NewDisposeScope();
        using var plain = SafeTensorsFile.Open(plainPath);
        using var lensed = SafeTensorsFile.Open(lensPath);
        // Layer 0 (block 0's output) gets translator 1 (+2), layer 1 (the last block) the identity.
        var expected = plain.Read("hidden_states");
        var special = expected.eq(0).all(-1, keepdim: true);                                      // zeroed special positions stay zero
        Assert.True(lensed.Read("hidden_states")[0].eq((expected[0] + 2).masked_fill(special[0], 0)).all().item<bool>());
        Assert.True(lensed.Read("hidden_states")[1].eq(expected[1]).all().item<bool>());
        Assert.Contains("sha256", lensed.Metadata["tuned_lens"]);
        Assert.Equal("false", lensed.Metadata["reference_quirks"]);
        Assert.False(plain.Metadata.ContainsKey("tuned_lens"));
    }

    [Fact]
    public void AReferenceLensSaeNeverRunsWithoutALens()
    {
        Assert.True(Mlsae.Cli.Commands.SaeOptions.IsReferenceLensId("tim-lawson/mlsae-pythia-70m-deduped-x64-k32-lens"));
        Assert.False(Mlsae.Cli.Commands.SaeOptions.IsReferenceLensId("tim-lawson/mlsae-pythia-70m-deduped-x64-k32"));

        // A -tfm checkpoint with tuned_lens: true on a local model: no published lens is known, so it is refused.
        var tfm = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(tfm, "config.json"), new JsonObject
        {
            ["model_name"] = TinyRun.Model, ["layers"] = new JsonArray(0, 1), ["expansion_factor"] = 4, ["k"] = 4, ["auxk"] = 16,
            ["dead_tokens_threshold"] = 10000000, ["max_length"] = 32, ["batch_size"] = 1, ["accumulate_grad_batches"] = 1, ["tuned_lens"] = true,
        }.ToJsonString());
        using (var scope = NewDisposeScope())
            SafeTensorsWriter.Write(Path.Combine(tfm, "model.safetensors"), new Dictionary<string, Tensor>
            {
                ["autoencoder.encoder.weight"] = randn(128, 32), ["autoencoder.decoder.weight"] = randn(32, 128), ["autoencoder.pre_encoder_bias"] = zeros(32),
            });
        var data = TinyRun.Data(4);
        var evalPath = Path.Combine(Fixtures.TempDir(), "eval.json");
        var r = CliRunner.Run("eval", "--sae", tfm, "--data", data, "--max-tokens", "32", "--out", evalPath);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("error: --tuned-lens pretrained: the model", r.Error);
        Assert.False(File.Exists(evalPath));

        // Given a lens, it runs, with the reference's quirks.
        r = CliRunner.Run("eval", "--sae", tfm, "--data", data, "--max-tokens", "32", "--out", evalPath, "--tuned-lens", LensFolder.Zero(2, 32), "--no-downstream");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.NotNull(JsonNode.Parse(File.ReadAllText(evalPath))!["tuned_lens"]);
    }
}

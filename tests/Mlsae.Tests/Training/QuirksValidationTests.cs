using Mlsae.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Training;

/// <summary>Under <c>--reference-quirks</c> a training run's validation advances <c>last_nonzero</c>
/// (the reference's Lightning module counts every forward call); in the consistent mode it never does.</summary>
public class QuirksValidationTests
{
    /// <summary>A one-step run (2 batches of 2 × 32 tokens) with one validation batch; dead latents
    /// stay off (dead_steps_threshold 78,125), so validation cannot change what training does.</summary>
    static string Train(string data, bool quirks, bool validate)
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run(TinyRun.TrainArgs(data, run, steps: 1, "--val-batches", "1", "--val-every", validate ? "1" : "0",
            "--reference-quirks", quirks ? "true" : "false"));
        Assert.True(r.ExitCode == 0, r.Error);
        return run;
    }

    static long[] Read(string file, string name)
    {
        var all = Fixtures.ReadAll(file);
        try { return all[name].to(ScalarType.Int64).data<long>().ToArray(); }
        finally { foreach (var t in all.Values) t.Dispose(); }
    }

    [Fact]
    public void AQuirksRunsValidationAdvancesLastNonzeroByOneForEveryLatentThatDidNotFireInIt()
    {
        var data = TinyRun.Data(20, seed: 3);
        var validated = Train(data, quirks: true, validate: true);
        var plain = Train(data, quirks: true, validate: false);

        // Which latents fired (a TopK value above dead_threshold 1e-3 at any layer) in the validation
        // batch: the first 2 sequences, held out before training, encoded by the final SAE (the
        // parameters validation saw; both runs train identically).
        var latents = Path.Combine(Fixtures.TempDir(), "latents.safetensors");
        var l = CliRunner.Run("latents", "--sae", plain, "--data", data, "--batch-size", "2", "--max-tokens", "64", "--out", latents);
        Assert.True(l.ExitCode == 0, l.Error);
        var all = Fixtures.ReadAll(latents);
        var fired = new bool[128];
        var indices = all["indices"].data<long>().ToArray();
        var values = all["values"].data<float>().ToArray();
        for (int i = 0; i < indices.Length; i++) if (values[i] > 1e-3) fired[indices[i]] = true;
        foreach (var t in all.Values) t.Dispose();

        var before = Read(Path.Combine(plain, "model.safetensors"), "last_nonzero");
        var after = Read(Path.Combine(validated, "model.safetensors"), "last_nonzero");
        Assert.All(before, n => Assert.InRange(n, 1, 2));      // two training calls since the start
        // The reference's update on the validation call: last_nonzero · (1 − fired) + 1.
        Assert.Equal(before.Select((n, f) => (fired[f] ? 0 : n) + 1), after);
        Assert.Contains(true, fired);
        Assert.Contains(false, fired);
        Assert.Equal(after, Read(Path.Combine(validated, "state", "training_state.safetensors"), "last_nonzero"));
    }

    [Fact]
    public void TheConsistentModesValidationLeavesEveryCounterAsTrainingLeftIt()
    {
        var data = TinyRun.Data(20, seed: 3);
        var validated = Path.Combine(Train(data, quirks: false, validate: true), "state", "training_state.safetensors");
        var plain = Path.Combine(Train(data, quirks: false, validate: false), "state", "training_state.safetensors");
        Assert.Equal(Read(plain, "last_nonzero"), Read(validated, "last_nonzero"));
        Assert.Equal(Read(plain, "tokens_since_fired"), Read(validated, "tokens_since_fired"));
    }
}

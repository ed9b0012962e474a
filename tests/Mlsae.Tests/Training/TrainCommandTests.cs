using System.Diagnostics;
using System.Text.Json;
using Mlsae.IO;
using Mlsae.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Training;

public class TrainCommandTests
{
    [Fact]
    public void TrainingReducesFvuAndWritesTheRunFolder()
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run(TinyRun.TrainArgs(TinyRun.Data(400), run, steps: 60, "--val-every", "20"));
        Assert.True(r.ExitCode == 0, r.Error);
        foreach (var file in new[] { "config.json", "model.safetensors", "run.json", "metrics.jsonl", "eval.json", "summary.md" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        var steps = TinyRun.Metrics(run).Where(m => m.TryGetProperty("fvu_mean", out _)).ToList();
        Assert.Equal(60, steps.Count);
        double first = steps.Take(3).Average(m => m.GetProperty("fvu_mean").GetDouble());
        double last = steps.TakeLast(3).Average(m => m.GetProperty("fvu_mean").GetDouble());
        Assert.True(last < 0.8 * first, $"FVU went from {first:F3} to {last:F3}");
        Assert.Equal(3, TinyRun.Metrics(run).Count(m => m.TryGetProperty("val", out _)));
        var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval.json"))).RootElement;
        Assert.Equal(2, eval.GetProperty("fvu").GetArrayLength());
        foreach (var key in new[] { "fvu_mean", "mse_mean", "l1_mean", "l0_mean", "delta_ce_loss_mean", "kl_div_mean", "logit_mse_mean", "dead_fraction", "tokens" })
            Assert.True(eval.TryGetProperty(key, out _), key);
        Assert.Equal([0, 1], eval.GetProperty("layers").EnumerateArray().Select(v => v.GetInt32()));
        var options = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))).RootElement;
        Assert.Equal(4, options.GetProperty("expansion_factor").GetInt32());
        Assert.Equal([0, 1], options.GetProperty("layers").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Contains("| mean |", File.ReadAllText(Path.Combine(run, "summary.md")));

        // eval on the run folder takes the model, layers and max length from it.
        var metrics = Path.Combine(run, "again.json");
        var e = CliRunner.Run("eval", "--sae", run, "--data", TinyRun.Data(20, seed: 9), "--batch-size", "2", "--max-tokens", "256", "--out", metrics);
        Assert.True(e.ExitCode == 0, e.Error);
        Assert.Contains("ΔCE loss", e.Out);
        Assert.Equal(256, JsonDocument.Parse(File.ReadAllText(metrics)).RootElement.GetProperty("tokens").GetInt64());
    }

    [Fact]
    public void LayersNeedNotBeConsecutiveAndEveryOutputNamesThem()
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run(TinyRun.TrainArgs(TinyRun.Data(60), run, steps: 3, "--layers", "1"));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("layers [1]", r.Error);
        Assert.Equal([1], JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval.json"))).RootElement.GetProperty("layers").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Single(TinyRun.Metrics(run)[0].GetProperty("fvu").EnumerateArray());
    }

    [Fact]
    public void ANaNLossStopsWithAMessageAndKeepsTheLastGoodCheckpoint()
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run(TinyRun.TrainArgs(TinyRun.Data(200), run, steps: 40, "--lr", "1e30", "--checkpoint-every", "1"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("the loss became", r.Error);
        Assert.Contains("last good checkpoint", r.Error);
        Assert.DoesNotContain("   at ", r.Error);
        using var state = SafeTensorsFile.Open(Path.Combine(run, "state", "training_state.safetensors"));
        using var weights = SafeTensorsFile.Open(Path.Combine(run, "model.safetensors"));
        Assert.True(weights.Read("encoder.weight").isfinite().all().item<bool>(), "the kept checkpoint is finite");
    }

    [Theory]
    [InlineData("--batch-size", "0", "--batch-size must be positive")]
    [InlineData("--lr", "-1", "--lr must be a positive number")]
    [InlineData("-k", "100000", "k must be in 1..n_latents")]
    [InlineData("--layers", "7", "layer 7 out of range")]
    [InlineData("--expansion-factor", "1000000", "latents needs about")]
    [InlineData("--expansion-factor", "2000000000", "more than a tensor dimension can hold")]
    [InlineData("--max-tokens", "9223372036854775807", "--max-tokens: 9223372036854775807 is too large")]
    public void BadFlagsAreOneLineErrors(string flag, string value, string message)
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run(TinyRun.TrainArgs(TinyRun.Data(20), run, 2, flag, value));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.False(File.Exists(Path.Combine(run, "model.safetensors")));
    }

    [Fact]
    public void AnExistingRunIsNotOverwrittenWithoutResume()
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var data = TinyRun.Data(40);
        Assert.Equal(0, CliRunner.Run(TinyRun.TrainArgs(data, run, 2)).ExitCode);
        var again = CliRunner.Run(TinyRun.TrainArgs(data, run, 2));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already holds a run", again.Error);
    }

    [Fact]
    public void KilledAndResumedRunEndsWhereTheUninterruptedRunEnds()
    {
        var data = TinyRun.Data(1200);
        const int steps = 250;
        var straight = Path.Combine(Fixtures.TempDir(), "straight");
        Assert.Equal(0, CliRunner.Run(TinyRun.TrainArgs(data, straight, steps, "--checkpoint-every", "5")).ExitCode);

        var killed = Path.Combine(Fixtures.TempDir(), "killed");
        var exe = Path.Combine(AppContext.BaseDirectory, "mlsae");
        var start = new ProcessStartInfo(exe) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in TinyRun.TrainArgs(data, killed, steps, "--checkpoint-every", "5")) start.ArgumentList.Add(arg);
        using (var process = Process.Start(start)!)
        {
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            var statePath = Path.Combine(killed, "state", "training_state.safetensors");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline && !process.HasExited && StepOf(statePath) < 20) Thread.Sleep(10);
            Assert.False(process.HasExited, "the run finished before it could be killed; make it longer");
            process.Kill();   // SIGKILL on Linux
            process.WaitForExit();
        }
        long killedAt = StepOf(Path.Combine(killed, "state", "training_state.safetensors"));
        Assert.InRange(killedAt, 20, steps - 1);
        Assert.False(File.Exists(Path.Combine(killed, "eval.json")));

        var resumed = CliRunner.Run("train", "--resume", "--out", killed);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        using var scope = NewDisposeScope();
        using var a = SafeTensorsFile.Open(Path.Combine(straight, "model.safetensors"));
        using var b = SafeTensorsFile.Open(Path.Combine(killed, "model.safetensors"));
        foreach (var name in a.Names)
            Fixtures.AssertClose(a.Read(name), b.Read(name), 1e-5, 0, name);
        Assert.Equal(TinyRun.LinesWithoutTime(Path.Combine(straight, "metrics.jsonl")), TinyRun.LinesWithoutTime(Path.Combine(killed, "metrics.jsonl")));
    }

    static long StepOf(string statePath)
    {
        try
        {
            using var file = SafeTensorsFile.Open(statePath);
            return long.Parse(file.Metadata["step"]);
        }
        catch (Exception e) when (e is IOException or MlsaeException or UnauthorizedAccessException) { return -1; }
    }
}

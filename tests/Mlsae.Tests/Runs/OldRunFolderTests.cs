using System.Text.Json.Nodes;
using Mlsae.IO;
using Mlsae.Runs;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Runs;

/// <summary>A run folder written before run.json had a format_version and before states saved
/// their data position (tests/Mlsae.Tests/Runs/old-run-v1, see its README) still opens, evaluates and resumes.</summary>
public class OldRunFolderTests
{
    static readonly string[] Args =
    [
        "train", "--model", "embedded", "--data", "embedded", "--max-length", "32", "--batch-size", "2", "--accumulate-grad-batches", "1",
        "--expansion-factor", "1", "-k", "4", "--auxk", "8", "--lr", "1e-3", "--val-batches", "1", "--val-every", "0",
        "--log-every", "4", "--checkpoint-every", "10", "--seed", "3", "--dead-tokens-threshold", "5000",
    ];

    static string Copy()
    {
        var from = Path.Combine(Fixtures.RepoRoot, "tests", "Mlsae.Tests", "Runs", "old-run-v1");
        var to = Path.Combine(Fixtures.TempDir(), "old-run");
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return to;
    }

    [Fact]
    public void ItsOptionsReadAsFormatVersionOneWithTheNewKeysDefaulted()
    {
        var run = Run.Open(Copy());
        Assert.Equal(1, run.Options.FormatVersion);
        Assert.Equal("embedded", run.Options.Model.Name);
        Assert.Null(run.Options.Model.DType);
        Assert.Equal("mlsae", run.Options.Autoencoder.Kind);
        Assert.Equal(1, run.Options.Runtime.WorldSize);
        Assert.Equal(32, run.Options.Data.MaxLength);
        Assert.NotNull(run.Eval());
        var rewritten = JsonNode.Parse(run.Options.ToJson())!.AsObject();
        Assert.Equal(1, rewritten["format_version"]!.GetValue<int>());   // re-saving keeps what it was read as
        foreach (var key in new[] { "expansion_factor", "k", "layers", "max_length", "kind", "tuned_lens", "world_size", "dtype", "model_dtype" })
            Assert.True(rewritten.ContainsKey(key), key);
    }

    [Fact]
    public void ItEvaluatesAndResumesToTheRunThisVersionTrainsStraight()
    {
        var old = Copy();
        var e = CliRunner.Run("eval", "--sae", old, "--max-tokens", "64", "--no-downstream", "--out", Path.Combine(old, "again.json"));
        Assert.True(e.ExitCode == 0, e.Error);

        int written = File.ReadLines(Path.Combine(old, "metrics.jsonl")).Count();   // by the old version
        var runJson = Path.Combine(old, "run.json");
        var options = JsonNode.Parse(File.ReadAllText(runJson))!.AsObject();
        options["max_tokens"] = 2560;
        File.WriteAllText(runJson, options.ToJsonString());
        var resumed = CliRunner.Run("train", "--resume", "--out", old);
        Assert.True(resumed.ExitCode == 0, resumed.Error);

        var straight = Path.Combine(Fixtures.TempDir(), "straight");
        var s = CliRunner.Run([.. Args, "--max-tokens", "2560", "--out", straight]);
        Assert.True(s.ExitCode == 0, s.Error);
        using var a = SafeTensorsFile.Open(Path.Combine(straight, "model.safetensors"));
        using var b = SafeTensorsFile.Open(Path.Combine(old, "model.safetensors"));
        foreach (var name in a.Names)
            Assert.True(a.Read(name).to(ScalarType.Float64).allclose(b.Read(name).to(ScalarType.Float64), rtol: 0, atol: 1e-6), name);
        // The old version's lines lack the reference's keys; every key they have equals the straight
        // run's, and the lines written after resuming are equal.
        var straightLines = TinyRun.LinesWithoutTime(Path.Combine(straight, "metrics.jsonl"));
        var oldLines = TinyRun.LinesWithoutTime(Path.Combine(old, "metrics.jsonl"));
        Assert.Equal(straightLines.Count, oldLines.Count);
        var straightRaw = File.ReadAllLines(Path.Combine(straight, "metrics.jsonl"));
        var oldRaw = File.ReadAllLines(Path.Combine(old, "metrics.jsonl"));
        for (int i = 0; i < oldRaw.Length; i++)
        {
            var expected = JsonNode.Parse(straightRaw[i])!.AsObject();
            foreach (var (key, value) in JsonNode.Parse(oldRaw[i])!.AsObject().Where(kv => kv.Key != "seconds"))
                Assert.True(expected[key]?.ToJsonString() == value?.ToJsonString(), $"line {i + 1}, {key}: {value} vs {expected[key]}");
        }
        Assert.Equal(straightLines.Skip(written), oldLines.Skip(written));
    }
}

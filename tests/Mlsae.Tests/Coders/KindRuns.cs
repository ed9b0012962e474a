using System.Text.Json.Nodes;
using Mlsae.IO;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Coders;

/// <summary>Tiny runs of each sparse coder kind on the embedded default (its model, tokenizer and corpus):
/// batches of 2 × 32 tokens, one per step, x2 latents.</summary>
static class KindRuns
{
    /// <summary>The train arguments; <paramref name="overrides"/> are flag/value pairs that replace a default or are appended.</summary>
    public static string[] TrainArgs(string kind, string output, long maxTokens, params string[] overrides)
    {
        var args = new List<string>
        {
            "train", "--kind", kind, "--out", output, "--max-tokens", maxTokens.ToString(), "--batch-size", "2", "--max-length", "32",
            "--expansion-factor", "2", "-k", "4", "--auxk", "8", "--val-batches", "2", "--accumulate-grad-batches", "1", "--val-every", "0",
            "--checkpoint-every", "4", "--log-every", "3", "--seed", "3",
        };
        for (int i = 0; i + 1 < overrides.Length; i += 2)
        {
            int at = args.IndexOf(overrides[i]);
            if (at >= 0) args[at + 1] = overrides[i + 1];
            else args.AddRange([overrides[i], overrides[i + 1]]);
        }
        return args.ToArray();
    }

    /// <summary>Trains a run; fails the test with its stderr when it fails.</summary>
    public static CliRunner.Result Train(string kind, string output, long maxTokens, params string[] overrides)
    {
        var r = CliRunner.Run(TrainArgs(kind, output, maxTokens, overrides));
        Assert.True(r.ExitCode == 0, r.Error);
        return r;
    }

    /// <summary>Every tensor of two weight files is exactly equal.</summary>
    public static void AssertSameWeights(string expected, string actual)
    {
        using var scope = NewDisposeScope();
        using var a = SafeTensorsFile.Open(expected);
        using var b = SafeTensorsFile.Open(actual);
        Assert.Equal(a.Names.Order(), b.Names.Order());
        foreach (var name in a.Names)
            Assert.True(a.Read(name).to(ScalarType.Float64).allclose(b.Read(name).to(ScalarType.Float64), rtol: 0, atol: 0), $"{actual}: {name} differs from {expected}");
    }

    /// <summary>
    /// A run of <paramref name="kind"/> stopped after 7 of 16 steps (mid logging window, between
    /// checkpoints) and resumed with the whole budget ends as the run made in one go: the same
    /// metrics lines and the same weights in <paramref name="weights"/> (files of the run folder).
    /// Returns the straight run's folder.
    /// </summary>
    public static string AssertResumeEndsAsTheStraightRun(string kind, params string[] weights)
    {
        var straight = Path.Combine(Fixtures.TempDir(), "straight");
        Train(kind, straight, 16 * 64);
        var resumed = Path.Combine(Fixtures.TempDir(), "resumed");
        Train(kind, resumed, 7 * 64);
        var runJson = Path.Combine(resumed, "run.json");
        var options = JsonNode.Parse(File.ReadAllText(runJson))!.AsObject();
        options["max_tokens"] = 16 * 64;
        File.WriteAllText(runJson, options.ToJsonString());
        var second = CliRunner.Run("train", "--resume", "--out", resumed);
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("resuming", second.Error);
        Assert.Equal(TinyRun.LinesWithoutTime(Path.Combine(straight, "metrics.jsonl")), TinyRun.LinesWithoutTime(Path.Combine(resumed, "metrics.jsonl")));
        foreach (var file in weights) AssertSameWeights(Path.Combine(straight, file), Path.Combine(resumed, file));
        Assert.Equal(File.ReadAllText(Path.Combine(straight, "eval.json")), File.ReadAllText(Path.Combine(resumed, "eval.json")));
        return straight;
    }
}

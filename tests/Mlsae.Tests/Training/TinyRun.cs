using System.Text.Json;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.Training;

/// <summary>A tiny random GPT-NeoX and random token data for training tests.</summary>
static class TinyRun
{
    static readonly Lazy<string> SharedModel = new(() => CreateModel(Fixtures.TempDir()));

    /// <summary>A 2-layer d=32 model, created once per test run.</summary>
    public static string Model => SharedModel.Value;

    static string CreateModel(string dir)
    {
        var folder = Path.Combine(dir, "model");
        var r = CliRunner.Run("create-model", "--out", folder, "--layers", "2", "--d-model", "32", "--heads", "4", "--vocab", "128", "--seed", "5");
        Assert.True(r.ExitCode == 0, r.Error);
        return folder;
    }

    /// <summary>Pre-tokenized sequences of 32 random ids.</summary>
    public static string Data(int sequences, int seed = 0)
    {
        var rng = new Random(seed);
        var path = Path.Combine(Fixtures.TempDir(), "seqs.jsonl");
        File.WriteAllLines(path, Enumerable.Range(0, sequences).Select(_ =>
            JsonSerializer.Serialize(new { input_ids = Enumerable.Range(0, 32).Select(_ => rng.Next(1, 128)).ToArray() })));
        return path;
    }

    /// <summary>The train arguments for a small run (k 4 of 128 latents, batch 2 × 32 tokens, 2 batches per step).</summary>
    /// <remarks><paramref name="overrides"/> are flag/value pairs that replace a default or are appended.</remarks>
    public static string[] TrainArgs(string data, string output, int steps, params string[] overrides)
    {
        var args = new List<string>
        {
            "train", "--model", Model, "--data", data, "--max-length", "32", "--batch-size", "2", "--accumulate-grad-batches", "2",
            "--max-tokens", (steps * 2 * 2 * 32).ToString(), "--expansion-factor", "4", "-k", "4", "--auxk", "16", "--lr", "3e-3",
            "--val-batches", "2", "--val-every", "0", "--seed", "1", "--out", output,
        };
        for (int i = 0; i + 1 < overrides.Length; i += 2)
        {
            int at = args.IndexOf(overrides[i]);
            if (at >= 0) args[at + 1] = overrides[i + 1];
            else args.AddRange([overrides[i], overrides[i + 1]]);
        }
        return args.ToArray();
    }

    /// <summary>The lines of a training log (metrics.jsonl, pretrain_log.jsonl) without their wall-clock
    /// <c>"seconds"</c>, the one thing a resumed run cannot repeat.</summary>
    public static List<string> LinesWithoutTime(string path) =>
        File.ReadLines(path).Select(line => System.Text.RegularExpressions.Regex.Replace(line, "\"seconds\":[0-9.]+", "")).ToList();

    public static List<JsonElement> Metrics(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
}

using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace Mlsae.Tests.Cli;

/// <summary>The README's first command, run in-process on a shortened budget: same code path,
/// same defaults (the embedded model and corpus), fewer tokens.</summary>
public class QuickStartTests
{
    static string[] FirstCommandArguments()
    {
        var readme = File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "README.md"));
        var section = readme[readme.IndexOf("## Quick start", StringComparison.Ordinal)..];
        var block = Regex.Match(section, "```[a-z]*\\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        var first = block.Split('\n')[0];
        Assert.StartsWith("dotnet run --project src/Mlsae.Cli -- ", first);
        return first["dotnet run --project src/Mlsae.Cli -- ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void TheFirstCommandTrainsAndEvaluatesOnTheEmbeddedDefault()
    {
        var args = FirstCommandArguments().ToList();
        Assert.Equal("train", args[0]);
        Assert.DoesNotContain("--model", args);
        Assert.DoesNotContain("--data", args);
        var run = Path.Combine(Fixtures.TempDir(), "quickstart");
        args[args.IndexOf("--out") + 1] = run;
        args.AddRange(["--max-tokens", "16384", "--val-batches", "2"]);
        var r = CliRunner.Run(args.ToArray());
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("model: the embedded GPT-NeoX", r.Error);
        Assert.Contains("data: the embedded synthetic corpus", r.Error);
        foreach (var file in new[] { "config.json", "model.safetensors", "run.json", "metrics.jsonl", "eval.json", "summary.md", "dists_heatmap.png", "prompt.png", "report.html" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval.json"))).RootElement;
        int layers = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures.RepoRoot, "embedded", "model", "config.json"))).RootElement.GetProperty("num_hidden_layers").GetInt32();
        Assert.Equal(layers, eval.GetProperty("fvu").GetArrayLength());
        Assert.True(eval.GetProperty("fvu_mean").GetDouble() < 1.0);
        var summary = File.ReadAllText(Path.Combine(run, "summary.md"));
        foreach (var column in new[] { "FVU", "L0", "ΔCE loss", "KL", "dead fraction" }) Assert.Contains(column, summary);
        // The run folder is a reference-format checkpoint the other commands take.
        var e = CliRunner.Run("eval", "--sae", run, "--max-tokens", "512", "--out", Path.Combine(run, "again.json"));
        Assert.True(e.ExitCode == 0, e.Error);
    }
}

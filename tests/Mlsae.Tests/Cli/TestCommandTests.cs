using System.Globalization;
using System.Text.Json;
using Mlsae.Evaluation;
using Mlsae.Tests.Training;
using Xunit;

namespace Mlsae.Tests.Cli;

/// <summary><c>mlsae test</c> appends the reference's test table, and no evaluation or analysis
/// changes a saved checkpoint.</summary>
public class TestCommandTests
{
    static readonly Lazy<(string Quirks, string Consistent, string Data)> Runs = new(() =>
    {
        var data = TinyRun.Data(40, seed: 6);
        string Train(params string[] extra)
        {
            var run = Path.Combine(Fixtures.TempDir(), "run");
            var r = CliRunner.Run(TinyRun.TrainArgs(data, run, steps: 2, extra));
            Assert.True(r.ExitCode == 0, r.Error);
            return run;
        }
        return (Train("--reference-quirks", "true", "--val-every", "1"), Train(), TinyRun.Data(12, seed: 8));
    });

    [Fact]
    public void TwoSaesMakeOneTableWhoseValuesAreEvalsAndAThirdAppendsToIt()
    {
        var (quirks, consistent, data) = Runs.Value;
        var csv = Path.Combine(Fixtures.TempDir(), "results.csv");
        string[] common = ["--data", data, "--batch-size", "2", "--max-tokens", "128", "--out", csv];
        var r = CliRunner.Run(["test", "--sae", quirks, "--sae", consistent, .. common]);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("2 rows appended to " + csv, r.Out);
        var again = CliRunner.Run(["test", "--sae", consistent + "," + quirks, .. common]);   // comma-separated
        Assert.True(again.ExitCode == 0, again.Error);

        var lines = File.ReadAllLines(csv);
        Assert.Equal(5, lines.Length);
        Assert.Equal(string.Join(",", TestTable.Header([0, 1])), lines[0]);
        var rows = lines.Skip(1).Select(l => lines[0].Split(',').Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second)).ToList();
        Assert.Equal([quirks, consistent, consistent, quirks], rows.Select(row => row["sae"]));
        Assert.Equal(rows[1], rows[2]);            // the same SAE on the same data: the same row
        Assert.Equal("4", rows[0]["expansion_factor"]);

        // Each row is eval's numbers for that SAE on the same data.
        var json = Path.Combine(Fixtures.TempDir(), "eval.json");
        var e = CliRunner.Run(["eval", "--sae", quirks, "--data", data, "--batch-size", "2", "--max-tokens", "128", "--out", json]);
        Assert.True(e.ExitCode == 0, e.Error);
        var eval = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        double Cell(string column) => double.Parse(rows[0][column], CultureInfo.InvariantCulture);
        Assert.Equal(eval.GetProperty("fvu_mean").GetDouble(), Cell("train/fvu/avg"));
        Assert.Equal(eval.GetProperty("fvu")[1].GetDouble(), Cell("train/fvu/layer_1"));
        Assert.Equal(eval.GetProperty("kl_div_mean").GetDouble(), Cell("val/logit/kldiv/avg"));
        Assert.Equal(eval.GetProperty("dead_fraction").GetDouble(), Cell("train/dead/rel"));
        Assert.Equal(eval.GetProperty("loss").GetDouble(), Cell("loss/total"));
        Assert.Equal(eval.GetProperty("loss_mse").GetDouble(), Cell("loss/mse"), 6);
        Assert.True(eval.TryGetProperty("dead_fraction_total", out _));
        Assert.Contains("dead fraction", e.Out);
    }

    [Fact]
    public void AnExistingTableWithOtherLayersIsAnErrorNamingItBeforeAnyEvaluation()
    {
        var (quirks, _, data) = Runs.Value;
        var csv = Path.Combine(Fixtures.TempDir(), "results.csv");
        File.WriteAllText(csv, string.Join(",", TestTable.Header([0, 1, 2])) + "\n");
        var before = File.ReadAllBytes(csv);
        var r = CliRunner.Run("test", "--sae", quirks, "--data", data, "--batch-size", "2", "--max-tokens", "128", "--out", csv);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"error: {csv}: its header does not match", r.Error);
        Assert.Equal("", r.Out);
        Assert.Equal(before, File.ReadAllBytes(csv));
    }

    [Fact]
    public void EvalTestAndTheAnalysesLeaveEveryCheckpointFileByteIdentical()   // (the tiny model has no tokenizer: examples and prompt need one)
    {
        var (quirks, _, data) = Runs.Value;
        string[] files = ["config.json", "model.safetensors", Path.Combine("state", "training_state.safetensors"), "run.json"];
        var before = files.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(quirks, f)));
        var dir = Fixtures.TempDir();
        string[] input = ["--data", data, "--batch-size", "2", "--max-tokens", "128"];
        foreach (var args in new[]
        {
            ["eval", "--sae", quirks, .. input, "--out", Path.Combine(dir, "e.json")],
            ["test", "--sae", quirks, .. input, "--out", Path.Combine(dir, "t.csv")],
            ["dists", "--sae", quirks, .. input, "--out", Path.Combine(dir, "d.safetensors")],
            ["variances", "--sae", quirks, .. input, "--out", Path.Combine(dir, "v.json")],
            ["latents", "--sae", quirks, .. input, "--out", Path.Combine(dir, "l.safetensors")],
            new[] { "mmcs", "--sae", quirks, "--out", Path.Combine(dir, "m.json") },
        })
        {
            var r = CliRunner.Run(args);
            Assert.True(r.ExitCode == 0, $"{args[0]}: {r.Error}");
        }
        foreach (var (file, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(quirks, file))), file);
        var mmcs = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "m.json"))).RootElement;
        foreach (var key in new[] { "mmcs", "mmcs_reference" }) Assert.InRange(mmcs.GetProperty(key).GetDouble(), 0, 1);
        Assert.Equal(mmcs.GetProperty("mmcs").GetDouble(), mmcs.GetProperty("stats").GetProperty("mean").GetDouble());
        Assert.True(mmcs.GetProperty("mmcs_reference").GetDouble() <= mmcs.GetProperty("mmcs").GetDouble());
        Assert.Equal(128, mmcs.GetProperty("max_cos_sim_reference").GetArrayLength());
    }
}

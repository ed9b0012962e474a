using System.Text.Json;
using Microsoft.Data.Sqlite;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Reports;
using Xunit;

namespace Mlsae.Tests.Analysis;

/// <summary>The analysis commands on a tiny model with the fixture tokenizer and an SAE trained for a few steps.</summary>
public class AnalysisCommandTests
{
    static readonly Lazy<(string Model, string Run, string Data)> Setup = new(() =>
    {
        var dir = Fixtures.TempDir();
        var model = Path.Combine(dir, "model");
        Assert.Equal(0, CliRunner.Run("create-model", "--out", model, "--layers", "3", "--d-model", "32", "--heads", "4", "--vocab", "1024", "--seed", "2").ExitCode);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            File.Copy(Fixtures.Path("tokenizer", f), Path.Combine(model, f));
        var data = Path.Combine(dir, "docs.jsonl");
        var docs = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement.GetProperty("documents")
            .EnumerateArray().Select(d => JsonSerializer.Serialize(new { text = d.GetString() })).ToList();
        File.WriteAllLines(data, Enumerable.Range(0, 8).SelectMany(_ => docs));
        var run = Path.Combine(dir, "run");
        var r = CliRunner.Run("train", "--model", model, "--data", data, "--max-length", "16", "--batch-size", "4", "--accumulate-grad-batches", "1",
            "--max-tokens", "2000", "--expansion-factor", "4", "-k", "4", "--auxk", "8", "--lr", "3e-3", "--val-batches", "2", "--out", run);
        Assert.True(r.ExitCode == 0, r.Error);
        return (model, run, data);
    });

    /// <remarks><paramref name="overrides"/> are flag/value pairs replacing a default or appended.</remarks>
    static string[] Args(string command, string output, params string[] overrides)
    {
        var args = new List<string> { command, "--sae", Setup.Value.Run, "--data", Setup.Value.Data, "--batch-size", "2", "--max-tokens", "256", "--out", output };
        for (int i = 0; i < overrides.Length; i++)
        {
            bool flagWithValue = i + 1 < overrides.Length && !overrides[i + 1].StartsWith("--", StringComparison.Ordinal);
            int at = args.IndexOf(overrides[i]);
            if (at >= 0 && flagWithValue) args[at + 1] = overrides[i + 1];
            else args.AddRange(flagWithValue ? [overrides[i], overrides[i + 1]] : [overrides[i]]);
            if (flagWithValue) i++;
        }
        return args.ToArray();
    }

    [Fact]
    public void TrainWritesTheDistributionFigureVariancesAndReport()
    {
        var run = Setup.Value.Run;
        Png.AssertImage(Path.Combine(run, "dists_heatmap.png"), 1200, 600);
        Png.AssertImage(Path.Combine(run, "dists_histogram.png"), 1200, 600);
        Assert.Equal("layer,density", File.ReadLines(Path.Combine(run, "dists_histogram_noninteger.csv")).First());
        Png.AssertImage(Path.Combine(run, "eval_fvu.png"), 900, 500);
        var variances = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "variances.json"))).RootElement;
        foreach (var key in new[] { "exp_var_l_f", "exp_var_l_tf", "var_l", "rel_var_f", "rel_var_t", "batch_size", "max_length" })
            Assert.True(variances.TryGetProperty(key, out _), key);
        var html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains("<th>FVU</th>", html);
        Assert.DoesNotContain("src=\"http", html);
    }

    [Fact]
    public void DistsShardsMergeIntoTheSingleRunFile()
    {
        var dir = Fixtures.TempDir();
        Assert.Equal(0, CliRunner.Run(Args("dists", Path.Combine(dir, "all.safetensors"), "--no-figures")).ExitCode);
        // 256 tokens = the first 16 sequences; each of 2 shards takes 8 of them (every other one).
        for (int i = 0; i < 2; i++)
            Assert.Equal(0, CliRunner.Run(Args("dists", Path.Combine(dir, $"s{i}.safetensors"), "--shard", $"{i}/2", "--max-tokens", "128", "--no-figures")).ExitCode);
        var r = CliRunner.Run("dists", "merge", Path.Combine(dir, "s1.safetensors"), Path.Combine(dir, "s0.safetensors"),
            "--out", Path.Combine(dir, "merged.safetensors"), "--no-figures");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "all.safetensors")), File.ReadAllBytes(Path.Combine(dir, "merged.safetensors")));
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "all.json"))).RootElement.GetProperty("layer_std");
        Assert.True(summary.GetProperty("mean").GetDouble() >= 0);
        Assert.Contains("--shard", CliRunner.Run(Args("dists", Path.Combine(dir, "x.safetensors"), "--shard", "2/2")).Error);
    }

    [Fact]
    public void ExamplesShardsMergeIntoTheSingleRunDatabase()
    {
        var dir = Fixtures.TempDir();
        Assert.Equal(0, CliRunner.Run(Args("examples", Path.Combine(dir, "all.db"), "--top", "3")).ExitCode);
        for (int i = 0; i < 2; i++)
            Assert.Equal(0, CliRunner.Run(Args("examples", Path.Combine(dir, $"s{i}.db"), "--top", "3", "--shard", $"{i}/2", "--max-tokens", "128")).ExitCode);
        var r = CliRunner.Run("examples", "merge", Path.Combine(dir, "s1.db"), Path.Combine(dir, "s0.db"), "--out", Path.Combine(dir, "merged.db"));
        Assert.True(r.ExitCode == 0, r.Error);
        static List<string> Rows(string db)
        {
            using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            c.Open();
            using var q = c.CreateCommand();
            q.CommandText = "SELECT latent, layer, token_id, token, act, token_ids, tokens, acts, sequence, position FROM examples ORDER BY latent, layer, act DESC, sequence, position";
            using var reader = q.ExecuteReader();
            var rows = new List<string>();
            while (reader.Read()) rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(reader.GetValue)));
            return rows;
        }
        var all = Rows(Path.Combine(dir, "all.db"));
        Assert.NotEmpty(all);
        Assert.Equal(all, Rows(Path.Combine(dir, "merged.db")));
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dir, "all.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var index = connection.CreateCommand();
        index.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'examples_latent_layer'";
        Assert.Equal(1L, (long)index.ExecuteScalar()!);
        using var most = connection.CreateCommand();
        most.CommandText = "SELECT max(n) FROM (SELECT count(*) AS n FROM examples GROUP BY latent, layer)";
        Assert.True((long)most.ExecuteScalar()! <= 3);
    }

    [Fact]
    public void TheOtherCommandsWriteTheirOutputs()
    {
        var dir = Fixtures.TempDir();
        var r = CliRunner.Run(Args("variances", Path.Combine(dir, "v.json")));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("rel_var_t", r.Out);
        r = CliRunner.Run("resid-cos-sim", "--model", Setup.Value.Model, "--data", Setup.Value.Data, "--max-length", "16", "--batch-size", "2", "--max-tokens", "128", "--out", Path.Combine(dir, "cos.json"));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(2, JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "cos.json"))).RootElement.GetProperty("cos_sim").GetArrayLength());
        Png.AssertImage(Path.Combine(dir, "cos.png"), 900, 500);
        r = CliRunner.Run("mmcs", "--sae", Setup.Value.Run, "--out", Path.Combine(dir, "mmcs.json"));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("MMCS", r.Out);
        r = CliRunner.Run("embed-cos-sim", "--sae", Setup.Value.Run, "--out", Path.Combine(dir, "embed.json"), "--top", "3");
        Assert.True(r.ExitCode == 0, r.Error);
        var embed = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "embed.json"))).RootElement;
        Assert.Equal(128, embed.GetProperty("latents").GetArrayLength());
        Assert.Equal(3, embed.GetProperty("latents")[0].GetProperty("embed_in").GetArrayLength());
        foreach (var table in new[] { "embed_in", "embed_out" })
        {
            foreach (var stat in new[] { "mean", "var", "std", "sem" }) Assert.True(embed.GetProperty(table).GetProperty(stat).GetDouble() is > -1 and < 1, $"{table}.{stat}");
            // Records, not lines: a token holding a line break is a quoted field spanning two.
            var csv = File.ReadAllText(Path.Combine(dir, $"embed_{table}.csv"));
            int records = 0;
            bool quoted = false;
            foreach (var ch in csv)
                if (ch == '"') quoted = !quoted;
                else if (ch == '\n' && !quoted) records++;
            Assert.Equal(1 + 128 * 3, records);
        }
        r = CliRunner.Run("embed-cos-sim", "--sae", Setup.Value.Run, "--out", Path.Combine(dir, "embed8.json"), "--latents", "3,1");
        Assert.True(r.ExitCode == 0, r.Error);
        var embed8 = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "embed8.json"))).RootElement;
        Assert.Equal((2, 8, 3), (embed8.GetProperty("n_latents").GetInt32(), embed8.GetProperty("n_embeds").GetInt32(), embed8.GetProperty("latents")[0].GetProperty("latent").GetInt32()));
        r = CliRunner.Run("embed-cos-sim", "--sae", Setup.Value.Run, "--out", Path.Combine(dir, "bad.json"), "--latents", "3,x");
        Assert.Equal((1, "error: --latents must be comma-separated latent indices, got '3,x'"), (r.ExitCode, r.Error.Trim()));
        r = CliRunner.Run(Args("latents", Path.Combine(dir, "latents.safetensors")));
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("[3, ", r.Out);
        r = CliRunner.Run("prompt", "--sae", Setup.Value.Run, "--text", "The cat sat on the mat.", "--out", Path.Combine(dir, "prompt.json"));
        Assert.True(r.ExitCode == 0, r.Error);
        var prompt = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "prompt.json"))).RootElement;
        Assert.Equal(3, prompt.GetProperty("layers").GetArrayLength());
        Assert.True(prompt.GetProperty("tokens").GetArrayLength() > 3);
        Png.AssertImage(Path.Combine(dir, "prompt.png"), 1200, 600);
        r = CliRunner.Run("prompt", "--sae", Setup.Value.Run, "--text", "The cat sat on the mat.", "--out", Path.Combine(dir, "sums.json"), "--heatmap-view", "sums", "--heatmap-order", "ascending");
        Assert.True(r.ExitCode == 0, r.Error);
        Png.AssertImage(Path.Combine(dir, "sums.png"), 1200, 600);
    }

    [Fact]
    public void DistsWritesTheReferencesFiguresAndTheFigureCommandsReadItsFiles()
    {
        var dir = Fixtures.TempDir();
        var dists = Path.Combine(dir, "d.safetensors");
        // 256 tokens in batches of 2 × 16: 8 batches, logged at steps 0, 3, 6.
        var r = CliRunner.Run(Args("dists", dists, "--layer-std-every", "3"));
        Assert.True(r.ExitCode == 0, r.Error);
        foreach (var png in new[] { "d_heatmap.png", "d_histogram.png", "d_histogram_noninteger.png" }) Png.AssertImage(Path.Combine(dir, png), 1200, 600);
        Png.AssertImage(Path.Combine(dir, "d_layer_std_step.png"), 900, 500);
        var steps = File.ReadAllLines(Path.Combine(dir, "d_layer_std_step.csv"));
        Assert.Equal(["0", "3", "6"], steps.Skip(1).Select(l => l.Split(',')[5]));
        Assert.Equal(["32", "128", "224"], steps.Skip(1).Select(l => l.Split(',')[6]));
        Assert.Equal(1 + 16 * 3 + 1, File.ReadAllLines(Path.Combine(dir, "d_histogram.csv")).Length);      // header, 16 · 3 bins + 1 edges
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "d.json"))).RootElement;
        Assert.Equal(("4", "4"), (summary.GetProperty("expansion_factor").GetString(), summary.GetProperty("k").GetString()));

        r = CliRunner.Run("dists", "cos-sim", "--sae", Setup.Value.Run, "--dists", dists, "--out", Path.Combine(dir, "cos.json"), "--cos-range", "1");
        Assert.True(r.ExitCode == 0, r.Error);
        var cos = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "cos.json"))).RootElement;
        int active = cos.GetProperty("active_latents").GetInt32();
        Assert.Equal((long)active * (active - 1) / 2, cos.GetProperty("pairs_in_range").GetInt64());   // ±1 holds every pair
        Png.AssertImage(Path.Combine(dir, "cos.png"), 1200, 600);

        r = CliRunner.Run("dists", "layer-std", dists, Path.Combine(Setup.Value.Run, "dists.safetensors"), "--out", Path.Combine(dir, "layer_std.csv"));
        Assert.True(r.ExitCode == 0, r.Error);
        var table = File.ReadAllLines(Path.Combine(dir, "layer_std.csv"));
        Assert.Equal(3, table.Length);
        Assert.All(table.Skip(1), row => Assert.Equal(["3", "128", "4", "4", "False"], row.Split(',')[1..6]));
        Png.AssertImage(Path.Combine(dir, "layer_std.png"), 900, 500);

        var other = Path.Combine(dir, "other.safetensors");
        new Mlsae.Analysis.LayerDists(3, 64).Save(other, new Dictionary<string, string>());
        r = CliRunner.Run("dists", "cos-sim", "--sae", Setup.Value.Run, "--dists", other, "--out", Path.Combine(dir, "x.json"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"--dists: {other} has 64 latents but the SAE", r.Error);
        Assert.False(File.Exists(Path.Combine(dir, "x.json")));
    }
}

using System.Text.Json;
using Microsoft.Data.Sqlite;
using Mlsae.Analysis;
using Mlsae.Explorer;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.Coders;

/// <summary><c>train --kind per-layer</c> on the embedded default, and every command reading the family.</summary>
public class PerLayerRunTests
{
    const int F = 256;   // x2 of the embedded model's d_model 128

    [Fact]
    public void ASingleLayerMlsaeIsASingleLayerSaeAndEachSaeOfAFamilyIsItsLayersSoloMlsae()
    {
        var dir = Fixtures.TempDir();
        string Run(string kind, string layers)
        {
            var run = Path.Combine(dir, $"{kind}-{layers.Replace(',', '-')}");
            KindRuns.Train(kind, run, 12 * 64, "--layers", layers);
            return run;
        }
        var mlsae = Run("mlsae", "3");
        var perLayer = Run("per-layer", "3");
        var family = Run("per-layer", "1,3");
        // The issue's check: --kind per-layer --layers 3 and --kind mlsae --layers 3 end with identical weights.
        Assert.Equal(File.ReadAllBytes(Path.Combine(mlsae, "model.safetensors")), File.ReadAllBytes(Path.Combine(perLayer, "layer-3", "model.safetensors")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(mlsae, "config.json")), File.ReadAllBytes(Path.Combine(perLayer, "layer-3", "config.json")));
        // Stronger: in a family of two, layer 3's SAE is still bit for bit the solo MLSAE (its loss alone reaches it).
        Assert.Equal(File.ReadAllBytes(Path.Combine(mlsae, "model.safetensors")), File.ReadAllBytes(Path.Combine(family, "layer-3", "model.safetensors")));
        var evalMlsae = JsonDocument.Parse(File.ReadAllText(Path.Combine(mlsae, "eval.json"))).RootElement;
        var evalFamily = JsonDocument.Parse(File.ReadAllText(Path.Combine(family, "eval.json"))).RootElement;
        Assert.Equal(evalMlsae.GetProperty("fvu")[0].GetDouble(), evalFamily.GetProperty("fvu")[1].GetDouble());
        Assert.Equal(evalMlsae.GetProperty("delta_ce_loss")[0].GetDouble(), evalFamily.GetProperty("delta_ce_loss")[1].GetDouble());

        // One SAE of the family reads alone as an MLSAE.
        var alone = CliRunner.Run("eval", "--sae", Path.Combine(family, "layer-3"), "--layers", "3", "--max-tokens", "128", "--batch-size", "2", "--max-length", "32",
            "--out", Path.Combine(dir, "alone.json"));
        Assert.True(alone.ExitCode == 0, alone.Error);
    }

    [Fact]
    public void AResumedFamilyEndsAsTheStraightOneAndEveryAnalysisReadsIt()
    {
        var run = KindRuns.AssertResumeEndsAsTheStraightRun("per-layer", Path.Combine("layer-0", "model.safetensors"), Path.Combine("layer-5", "model.safetensors"));
        var options = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))).RootElement;
        Assert.Equal("per-layer", options.GetProperty("kind").GetString());
        Assert.Contains("per-layer: 6 SAEs of 256 latents (1,536 in all), k 4 per layer", File.ReadAllText(Path.Combine(run, "summary.md")));
        Assert.Contains("24 active codes per token", File.ReadAllText(Path.Combine(run, "summary.md")));
        Assert.Contains("<h1>Per-layer SAEs on embedded</h1>", File.ReadAllText(Path.Combine(run, "report.html")));

        // Every latent lives at its own SAE's layer: dists count latent l·F + f only at row l.
        var (dists, metadata) = LayerDists.Load(Path.Combine(run, "dists.safetensors"));
        Assert.Equal((6, 6 * F), (dists.Layers, dists.Latents));
        Assert.Equal("per-layer", metadata["kind"]);
        Assert.Equal("2", metadata["expansion_factor"]);
        for (int l = 0; l < 6; l++)
            for (int f = 0; f < 6 * F; f++)
                if (f / F != l) Assert.Equal(0, dists.Count(l, f));
        using (var db = new SqliteConnection($"Data Source={Path.Combine(run, "examples.db")};Mode=ReadOnly;Pooling=False"))
        {
            db.Open();
            using var select = db.CreateCommand();
            select.CommandText = "SELECT COUNT(*) FROM examples WHERE latent / 256 != layer";
            Assert.Equal(0L, (long)select.ExecuteScalar()!);
        }

        var dir = Fixtures.TempDir();
        string[] Analysis(string command, string output) =>
            [command, "--sae", run, "--max-tokens", "128", "--batch-size", "2", "--out", Path.Combine(dir, output)];
        foreach (var (command, output) in new[] { ("eval", "eval.json"), ("dists", "dists.safetensors"), ("variances", "variances.json"), ("examples", "examples.db"), ("latents", "latents.safetensors") })
        {
            var r = CliRunner.Run(Analysis(command, output));
            Assert.True(r.ExitCode == 0, $"{command}: {r.Error}");
        }
        Assert.Equal(6, JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "eval.json"))).RootElement.GetProperty("fvu").GetArrayLength());
        var wrong = CliRunner.Run([.. Analysis("eval", "wrong.json"), "--layers", "0,1"]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("holds a 'per-layer' of layers [0, 1, 2, 3, 4, 5], which reads exactly those, not [0, 1]", wrong.Error);

        // Decoder readers pick one layer's SAE; its latents are numbered from l·F.
        var mmcs = CliRunner.Run("mmcs", "--sae", run, "--layer", "2", "--out", Path.Combine(dir, "mmcs.json"));
        Assert.True(mmcs.ExitCode == 0, mmcs.Error);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "mmcs.json"))).RootElement;
        Assert.Equal((2, 2L * F, F), (json.GetProperty("layer").GetInt32(), json.GetProperty("first_latent").GetInt64(), json.GetProperty("n_latents").GetInt32()));
        var noLayer = CliRunner.Run("mmcs", "--sae", run);
        Assert.Equal(1, noLayer.ExitCode);
        Assert.Contains("with one per layer (0, 1, 2, 3, 4, 5); pass --layer to pick one", noLayer.Error);
        var embed = CliRunner.Run("embed-cos-sim", "--sae", run, "--layer", "1", "--latents", "256,300", "--out", Path.Combine(dir, "embed.json"));
        Assert.True(embed.ExitCode == 0, embed.Error);
        Assert.Equal([256, 300], JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "embed.json"))).RootElement.GetProperty("latents").EnumerateArray().Select(x => x.GetProperty("latent").GetInt32()));
        var outside = CliRunner.Run("embed-cos-sim", "--sae", run, "--layer", "1", "--latents", "3", "--out", Path.Combine(dir, "embed2.json"));
        Assert.Contains("latent 3 is not one of 256..511 (those of layer 1)", outside.Error);
        var cosSim = CliRunner.Run("dists", "cos-sim", "--sae", run, "--dists", Path.Combine(run, "dists.safetensors"), "--out", Path.Combine(dir, "cos.json"));
        Assert.Equal(1, cosSim.ExitCode);
        Assert.Contains("lives at its own SAE's layer", cosSim.Error);

        // The explorer's services: a latent's logits come from its own SAE's decoder, and it steers at that layer only.
        using var explorer = Serve.ServeFixture.Open(run);
        long[] ids = [.. explorer.Tokenizer!.Encode("the cat sat").Select(i => (long)i)];
        Assert.Equal(2, DecoderLogits.Compute(explorer.Model.Model, explorer.Sae, 2 * F + 5, 4).Layer);
        var shift = LogitShift.Steer(explorer.Model, explorer.Sae, ids, layer: 2, latent: 2 * F + 5, factor: 4, top: 4, CancellationToken.None);
        Assert.Equal(2, shift.Layer);
        var elsewhere = Assert.Throws<MlsaeException>(() => LogitShift.Steer(explorer.Model, explorer.Sae, ids, layer: 2, latent: 5, factor: 4, top: 4, CancellationToken.None));
        Assert.Equal("latent 5 writes nothing at layer 2: it belongs to another layer's SAE of the per-layer family", elsewhere.Message);
    }
}

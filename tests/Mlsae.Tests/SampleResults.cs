using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests;

/// <summary>Small hand-made results of every kind a run folder holds, for round-trip, figure and report tests.</summary>
public static class SampleResults
{
    public static readonly int[] Layers = [0, 2, 3];

    public static EvalResult Eval() => new(Layers, 4096, 4, new Dictionary<string, double[]>
    {
        ["fvu"] = [0.25, 0.125, 0.1], ["mse"] = [1.5, 2.25, 3.0], ["l1"] = [20.0, 21.5, 22.75], ["l0"] = [16, 16, 16],
        ["delta_ce_loss"] = [0.01, double.NaN, 0.03],
    }, 0.0625) { DeadFractionTotal = 0.03125, Loss = new EvalLoss(0.5, 0.15625, 0.03125) };

    public static VarianceSummary Variances() => new()
    {
        ExpVarLF = 0.37, ExpVarLTF = 0.026, VarL = 0.39, RelVarF = 0.95, RelVarT = double.NaN, Batches = 16, BatchSize = 8, MaxLength = 128,
    };

    /// <summary>Three layers, eight latents; latents 0..4 fire, with distinct layer profiles.</summary>
    public static LayerDists Dists()
    {
        using var scope = NewDisposeScope();
        var dists = new LayerDists(Layers.Length, 8);
        // [L, B, T, K] = [3, 1, 4, 2]: latent (l + t) % 4 and latent 4 at every position.
        var values = new float[3 * 4 * 2];
        var indices = new long[values.Length];
        for (int l = 0; l < 3; l++)
            for (int t = 0; t < 4; t++)
            {
                int at = (l * 4 + t) * 2;
                (indices[at], values[at]) = ((l + t) % 4, 0.5f + l + 0.25f * t);
                (indices[at + 1], values[at + 1]) = (4, 1.0f / (l + 1));
            }
        dists.Add(tensor(values, [3, 1, 4, 2]), tensor(indices, [3, 1, 4, 2]));
        return dists;
    }

    public static Dictionary<string, string> DistsMetadata() => new()
    {
        ["model"] = "tiny-model", ["sae"] = "/runs/tiny/", ["layers"] = string.Join(",", Layers), ["data"] = "docs.jsonl (held out)",
        ["max_length"] = "4", ["batch_size"] = "1", ["shard"] = "0/1",
    };

    public static PromptAnalysis Prompt() => new("The cat \"sat\".\n", "tiny-model", "/runs/tiny", Layers, 1.5, 0.625,
        [
            new PromptAnalysis.Latent(7, 0.4, [3.5, 1.0, 0.0], [0.7777777777777778, 0.2222222222222222, 0.0]),
            new PromptAnalysis.Latent(2, 1.6, [0.5, 1.0, 2.5], [0.125, 0.25, 0.625]),
        ],
        [
            new PromptAnalysis.Token(510, "The", [new(0, 7, 0.1f), new(2, 7, 1.25f), new(3, 2, 2.5f)]),
            new PromptAnalysis.Token(9, " é\u0000", []),
        ]);

    /// <summary>A run folder with run.json and every result <c>mlsae train</c> writes (no figures).</summary>
    public static string RunWithResults()
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, Mlsae.Runs.Run.RunFile), new TrainOptions { Model = new ModelOptions { Name = "tiny-model", Layers = Layers }, Data = new TrainDataOptions { Source = "docs.jsonl" } }.ToJson());
        Eval().Save(Path.Combine(dir, "eval.json"));
        Variances().Save(Path.Combine(dir, "variances.json"));
        Prompt().Save(Path.Combine(dir, "prompt.json"));
        DistsFiles.Save(Dists(), DistsMetadata(), Path.Combine(dir, "dists.safetensors"));
        File.WriteAllText(Path.Combine(dir, "summary.md"), "# MLSAE on tiny-model\n\n| layer | FVU |\n");
        return dir;
    }

    /// <summary>Writes <paramref name="text"/> as <paramref name="name"/> and asserts that
    /// <paramref name="load"/> rejects it with an <see cref="MlsaeException"/> naming the file and containing <paramref name="expected"/>.</summary>
    public static void AssertRejects<T>(Func<string, T> load, string name, string text, string expected)
    {
        var path = Path.Combine(Fixtures.TempDir(), name);
        File.WriteAllText(path, text);
        var e = Assert.Throws<MlsaeException>(() => load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    /// <summary>Saves a result, cuts the file in half and asserts that <paramref name="load"/> rejects it.</summary>
    public static void AssertRejectsTruncated<T>(Action<string> save, Func<string, T> load, string name)
    {
        var path = Path.Combine(Fixtures.TempDir(), name);
        save(path);
        var text = File.ReadAllText(path);
        AssertRejects(load, name, text[..(text.Length / 2)], "not valid JSON");
    }

    /// <summary>Saves <paramref name="result"/>, loads it, asserts the two are equivalent and that saving the loaded one writes the same bytes.</summary>
    public static void AssertRoundTrips<T>(T result, Action<T, string> save, Func<string, T> load, string name)
    {
        var dir = Fixtures.TempDir();
        var path = Path.Combine(dir, name);
        save(result, path);
        var loaded = load(path);
        Assert.Equivalent(result, loaded, strict: true);
        var again = Path.Combine(dir, "again-" + name);
        save(loaded, again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }
}

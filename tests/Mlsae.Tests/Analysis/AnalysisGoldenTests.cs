using Mlsae.Analysis;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

/// <summary><c>analysis_golden.safetensors</c>: dists, variances and residual cosine statistics for
/// the fixture SAE's TopK (raw values) on model B's hidden states. Tolerance atol 1e-5, identical NaN pattern.</summary>
public class AnalysisGoldenTests
{
    static (Dictionary<string, Tensor> Expected, Tensor Inputs, TopK TopK) Load()
    {
        var expected = Fixtures.ReadAll(Fixtures.Path("mlsae", "analysis_golden.safetensors"));
        var inputs = Fixtures.ReadAll(Fixtures.Path("mlsae", "mlsae_golden.safetensors"))["inputs"];
        using var sae = MlsaeCheckpoint.Load(Fixtures.Path("mlsae", "sae_checkpoint"), new SparseCoderSettings { ReferenceQuirks = true }).Autoencoder;
        using var _ = no_grad();
        var output = sae.Forward(inputs, training: false);
        return (expected, inputs, new TopK(output.TopKRaw, output.TopK.Indices));
    }

    static Tensor T(double[] v) => tensor(v);

    static void AssertNanPatternAndClose(Tensor expected, Tensor actual, string what)
    {
        var e = expected.to(ScalarType.Float64).flatten();
        var a = actual.to(ScalarType.Float64).flatten();
        Assert.Equal(e.isnan().data<bool>().ToArray(), a.isnan().data<bool>().ToArray());
        var finite = e.isnan().logical_not();
        Fixtures.AssertClose(e.masked_select(finite), a.masked_select(finite), 1e-5, 0, what);
    }

    [Fact]
    public void DistsMatchTheReference()
    {
        using var scope = NewDisposeScope();
        var (g, _, topk) = Load();
        var dists = new LayerDists(2, 192);
        dists.Add(topk.Values, topk.Indices);
        var stats = dists.Stats();
        var counts = tensor(Enumerable.Range(0, 2 * 192).Select(c => (double)dists.Count(c / 192, c % 192)).ToArray(), [2, 192]);
        var totals = tensor(Enumerable.Range(0, 2 * 192).Select(c => dists.Total(c / 192, c % 192)).ToArray(), [2, 192]);
        Fixtures.AssertClose(g["dists.counts"], counts, 0, 0, "counts");
        Fixtures.AssertClose(g["dists.totals"], totals, 1e-5, 0, "totals");
        AssertNanPatternAndClose(g["dists.probs"], tensor(stats.Probs.Cast<double>().ToArray(), [2, 192]), "probs");
        AssertNanPatternAndClose(g["dists.layer_mean"], T(stats.LayerMean), "layer_mean");
        AssertNanPatternAndClose(g["dists.layer_var"], T(stats.LayerVar), "layer_var");
        AssertNanPatternAndClose(g["dists.layer_std"], T(stats.LayerStd), "layer_std");
        Fixtures.AssertClose(g["dists.mean"], T(stats.Mean), 1e-5, 0, "mean");
        Fixtures.AssertClose(g["dists.means"], tensor(stats.Means.Cast<double>().ToArray(), [2, 192]), 1e-5, 0, "means");
        Assert.Equal(65, stats.LayerStd.Count(double.IsNaN));
        Assert.Equal(57, stats.LayerVar.Count(v => v == 0));
    }

    [Fact]
    public void VariancesMatchTheReference()
    {
        using var scope = NewDisposeScope();
        var (g, _, topk) = Load();
        var variances = new LayerVariances(2, 192, maxChunkElements: 2 * 192 * 5);   // several token chunks
        variances.Add(topk.Values, topk.Indices);
        var result = variances.Result();
        foreach (var name in new[] { "exp_var_l_f", "exp_var_l_tf", "var_l", "rel_var_f", "rel_var_t" })
            Fixtures.AssertClose(g[$"variances.{name}"], tensor(result[name]), 1e-5, 1e-5, name);
    }

    [Fact]
    public void ResidualCosineSimilarityMatchesTheReference()
    {
        using var scope = NewDisposeScope();
        var (g, inputs, _) = Load();
        var cos = new ResidualCosineSimilarity(2, 48);
        // Two batches per pass, to exercise the streaming statistics.
        cos.AddFirstPass(inputs[.., 0..1]);
        cos.AddFirstPass(inputs[.., 1..2]);
        Fixtures.AssertClose(g["resid.means"], tensor(cos.Means.SelectMany(m => m).ToArray(), [2, 48]), 1e-5, 0, "means");
        cos.AddSecondPass(inputs[.., 0..1]);
        cos.AddSecondPass(inputs[.., 1..2]);
        Fixtures.AssertClose(g["resid.cos_sim_per_token"], cos.PerToken(inputs), 1e-5, 0, "per token");
        var c = cos.CosineStats[0];
        Fixtures.AssertClose(g["resid.cos_sim_mean"], tensor(new[] { c.Mean }), 1e-5, 0, "cos mean");
        Fixtures.AssertClose(g["resid.cos_sim_var"], tensor(new[] { c.Var }), 1e-5, 0, "cos var");
        Fixtures.AssertClose(g["resid.cos_sim_std"], tensor(new[] { c.Std }), 1e-5, 0, "cos std");
        Fixtures.AssertClose(g["resid.cos_sim_sem"], tensor(new[] { c.Sem }), 1e-5, 0, "cos sem");
        var n = cos.NormStats;
        Fixtures.AssertClose(g["resid.l2_norm_mean"], tensor(n.Select(s => s.Mean).ToArray()), 1e-5, 1e-6, "norm mean");
        Fixtures.AssertClose(g["resid.l2_norm_var"], tensor(n.Select(s => s.Var).ToArray()), 1e-5, 1e-5, "norm var");
        Fixtures.AssertClose(g["resid.l2_norm_std"], tensor(n.Select(s => s.Std).ToArray()), 1e-5, 1e-6, "norm std");
        Fixtures.AssertClose(g["resid.l2_norm_sem"], tensor(n.Select(s => s.Sem).ToArray()), 1e-5, 1e-6, "norm sem");
    }

    [Fact]
    public void ShardedDistsMergeIntoExactlyTheSingleRunFile()
    {
        using var scope = NewDisposeScope();
        var rng = new Generator(5);
        var batches = Enumerable.Range(0, 6).Select(_ => (Values: randn([3, 2, 8, 4], generator: rng) * 10, Indices: randint(0, 50, [3, 2, 8, 4], generator: rng))).ToList();
        var single = new LayerDists(3, 50);
        foreach (var (v, i) in batches) single.Add(v, i);
        var shards = new[] { new LayerDists(3, 50), new LayerDists(3, 50) };
        for (int b = 0; b < batches.Count; b++) shards[b % 2].Add(batches[b].Values, batches[b].Indices);
        var dir = Fixtures.TempDir();
        var meta = new Dictionary<string, string> { ["sae"] = "x" };
        single.Save(Path.Combine(dir, "single.safetensors"), meta);
        shards[1].Save(Path.Combine(dir, "b.safetensors"), meta);
        var (merged, _) = LayerDists.Load(Path.Combine(dir, "b.safetensors"));
        merged.Merge(shards[0]);
        merged.Save(Path.Combine(dir, "merged.safetensors"), meta);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "single.safetensors")), File.ReadAllBytes(Path.Combine(dir, "merged.safetensors")));
    }
}

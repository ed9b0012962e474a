using System.Globalization;
using Mlsae.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

/// <summary>The reference's <c>dists_layer_std</c> table and the layer-std convergence rows.</summary>
public class LayerStdRowTests
{
    [Fact]
    public void TheRelColumnsAreTheStatsOverTheNumberOfLayers()
    {
        // SampleResults.Dists: 3 layers, 8 latents, 5 fire. Recompute get_stats by hand from layer_std.
        var dists = SampleResults.Dists();
        var std = dists.Stats().LayerStd;
        var finite = std.Where(v => !double.IsNaN(v)).ToArray();
        double mean = finite.Sum() / finite.Length;
        double variance = finite.Select(v => (v - mean) * (v - mean)).Sum() / finite.Length;
        double sem = Math.Sqrt(variance) / Math.Sqrt(8);
        var metadata = SampleResults.DistsMetadata();
        metadata["expansion_factor"] = "4";
        metadata["k"] = "2";
        var row = LayerStdRow.From(dists, metadata, "d.safetensors");
        Assert.Equal((3, 8, "4", "2", false), (row.NLayers, row.NLatents, row.ExpansionFactor, row.K, row.TunedLens));
        Assert.Equal(mean, row.Mean, 12);
        Assert.Equal(variance, row.Var, 12);
        Assert.Equal(sem, row.Sem, 12);
        Assert.Equal(mean / 3, row.MeanRel, 12);
        Assert.Equal(variance / 3, row.VarRel, 12);      // the reference divides the variance by L too
        Assert.Equal(Math.Sqrt(variance) / 3, row.StdRel, 12);
        Assert.Equal(sem / 3, row.SemRel, 12);

        var path = Path.Combine(Fixtures.TempDir(), "t.csv");
        LayerStdRow.SaveCsv([row, row with { Source = "b,c.safetensors", ExpansionFactor = "" }], path);
        var lines = File.ReadAllLines(path);
        Assert.Equal("model_name,n_layers,n_latents,expansion_factor,k,tuned_lens,mean,var,std,sem,mean_rel,var_rel,std_rel,sem_rel,dists", lines[0]);
        var cells = lines[1].Split(',');
        Assert.Equal(["tiny-model", "3", "8", "4", "2", "False"], cells[..6]);
        Assert.Equal(row.MeanRel, double.Parse(cells[10], CultureInfo.InvariantCulture));
        Assert.EndsWith(",\"b,c.safetensors\"", lines[2]);
        Assert.Equal(3, lines.Length);
    }

    [Fact]
    public void ConvergenceRowsAreLoggedEveryNBatchesFromTheFirst()
    {
        using var scope = NewDisposeScope();
        var dists = new LayerDists(2, 4);
        var convergence = new LayerStdConvergence(3, new Dictionary<string, string> { ["model"] = "tiny", ["expansion_factor"] = "2", ["k"] = "1" });
        var afterStep = new List<(double, double)>();
        for (int step = 0; step < 8; step++)
        {
            // One token per batch, K = 1: latent step % 4 at layer 0, latent (step + 1) % 4 at layer 1.
            dists.Add(tensor(new float[] { 1, 2 }, [2, 1, 1, 1]), tensor(new long[] { step % 4, (step + 1) % 4 }, [2, 1, 1, 1]));
            convergence.Observe(step, dists);
            var (mean, _, _, sem) = dists.Stats().Summary();
            afterStep.Add((mean, sem));
        }
        Assert.Equal([0L, 3, 6], convergence.Rows.Select(r => r.Step));
        Assert.Equal([1L, 4, 7], convergence.Rows.Select(r => r.Tokens));
        Assert.Equal(afterStep[3], (convergence.Rows[1].Mean, convergence.Rows[1].Sem));
        Assert.True(double.IsNaN(convergence.Rows[0].Mean) == false && convergence.Rows[0].Mean == 0);   // two latents, each at one layer
        var path = Path.Combine(Fixtures.TempDir(), "steps.csv");
        convergence.SaveCsv(path);
        var lines = File.ReadAllLines(path);
        Assert.Equal("model_name,n_layers,n_latents,expansion_factor,k,step,tokens,mean,var,std,sem", lines[0]);
        Assert.StartsWith("tiny,2,4,2,1,3,4,", lines[2]);
        Assert.Equal(4, lines.Length);
        Assert.Throws<MlsaeException>(() => new LayerStdConvergence(0, new Dictionary<string, string>()));
    }
}

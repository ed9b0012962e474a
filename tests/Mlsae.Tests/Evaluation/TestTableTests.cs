using Mlsae.Evaluation;
using Xunit;

namespace Mlsae.Tests.Evaluation;

/// <summary>The reference's test table: its columns, and appending rows to one file.</summary>
public class TestTableTests
{
    static EvalResult Result(double fvu) => new([0, 2], 128, 2, new Dictionary<string, double[]>
    {
        ["fvu"] = [fvu, 0.5], ["mse"] = [1, 2], ["l1"] = [3, 4], ["l0"] = [4, 4], ["delta_ce_loss"] = [0.25, double.NaN], ["kl_div"] = [0.5, 0.75], ["logit_mse"] = [1, 3],
    }, 0.125) { DeadFractionTotal = 0, Loss = new EvalLoss(0.5, 0.375, 0.125) };

    static string[] Row(string sae, double fvu) => TestTable.Values(new TestTableRow(sae, "tiny", 32, 128, 4, Result(fvu)));

    [Fact]
    public void TheColumnsAreTheReferencesWithLayerIndicesAndAvg()
    {
        var header = TestTable.Header([0, 2]);
        Assert.Equal(["sae", "model", "expansion_factor", "k", "n_latents", "tokens", "train/dead/rel",
            "train/l1/layer_0", "train/l1/layer_2", "train/l1/avg", "train/mse/layer_0", "train/mse/layer_2", "train/mse/avg",
            "train/fvu/layer_0", "train/fvu/layer_2", "train/fvu/avg", "val/loss/delta/layer_0", "val/loss/delta/layer_2", "val/loss/delta/avg",
            "val/logit/mse/layer_0", "val/logit/mse/layer_2", "val/logit/mse/avg", "val/logit/kldiv/layer_0", "val/logit/kldiv/layer_2", "val/logit/kldiv/avg",
            "loss/total", "loss/mse", "loss/auxk"], header);
        var values = Row("runs/a", 0.25);
        Assert.Equal(header.Length, values.Length);
        var byName = header.Zip(values).ToDictionary(p => p.First, p => p.Second);
        Assert.Equal("4", byName["expansion_factor"]);
        Assert.Equal("0.125", byName["train/dead/rel"]);
        Assert.Equal("0.375", byName["train/fvu/avg"]);
        Assert.Equal("", byName["val/loss/delta/layer_2"]);        // NaN, as pandas writes it
        Assert.Equal("2", byName["val/logit/mse/avg"]);
        Assert.Equal("0.125", byName["loss/auxk"]);
    }

    [Fact]
    public void TwoAppendsMakeOneTableWithOneHeaderAndQuotedNames()
    {
        var path = Path.Combine(Fixtures.TempDir(), "results.csv");
        var header = TestTable.Header([0, 2]);
        TestTable.Append(path, header, [Row("runs/a", 0.25)]);
        TestTable.Append(path, header, [Row("runs/b,\"x\"", 0.125)]);
        var lines = File.ReadAllLines(path);
        Assert.Equal(3, lines.Length);
        Assert.Equal(string.Join(",", header), lines[0]);
        Assert.StartsWith("runs/a,tiny,4,4,128,128,0.125,3,4,3.5,", lines[1]);
        Assert.StartsWith("\"runs/b,\"\"x\"\"\",tiny,", lines[2]);
        Assert.Equal(header.Length, lines[1].Split(',').Length);
    }

    [Fact]
    public void AFileWithAnotherHeaderIsAnErrorNamingItAndIsLeftAsItWas()
    {
        var path = Path.Combine(Fixtures.TempDir(), "results.csv");
        TestTable.Append(path, TestTable.Header([0, 1]), [TestTable.Values(new TestTableRow("a", "tiny", 32, 128, 4,
            Result(0.25) with { Layers = [0, 1] }))]);
        var before = File.ReadAllBytes(path);
        var e = Assert.Throws<MlsaeException>(() => TestTable.Append(path, TestTable.Header([0, 2]), [Row("b", 0.5)]));
        Assert.StartsWith(path + ": its header does not match", e.Message);
        Assert.Contains("'train/l1/layer_1', expected 'train/l1/layer_2'", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));   // no temp file left beside it
    }
}

using Mlsae.Analysis;
using Mlsae.Reports;
using Xunit;

namespace Mlsae.Tests.Reports;

/// <summary><c>report --compare</c>: a lens run's multi-layer statistics beside a plain run's.</summary>
public class RunReportCompareTests
{
    static string RunWith(double relVarT, double single)
    {
        var dir = SampleResults.RunWithResults();
        var path = Path.Combine(dir, "variances.json");
        (VarianceSummary.Load(path) with { RelVarT = relVarT, SingleLayerFraction = single, ActivePairs = 100 }).Save(path);
        return dir;
    }

    [Fact]
    public void TheComparisonShowsBothRunsStatistics()
    {
        var lens = RunWith(0.06, 0.4);
        var plain = RunWith(0.05, 0.55);
        double layerStd = DistsSummary.Load(Path.Combine(plain, "dists.json")).LayerStdMean;
        Assert.Equal([("rel_var_t", 0.06, 0.05), ("layer_std mean", layerStd, layerStd), ("single_layer_fraction", 0.4, 0.55)], RunReport.Comparison(lens, plain));
        var html = RunReport.Html(lens, plain);
        Assert.Contains($"<h2>Compared with {System.Net.WebUtility.HtmlEncode(plain)}</h2>", html);
        Assert.Contains("<tr><th style=\"text-align:left\">single_layer_fraction</th><td>0.4</td><td>0.55</td></tr>", html);
        Assert.DoesNotContain("Compared with", RunReport.Html(lens));
    }

    [Fact]
    public void ComparingWithAFolderThatIsNotARunIsAnError()
    {
        var e = Assert.Throws<MlsaeException>(() => RunReport.Html(RunWith(0.06, 0.4), Fixtures.TempDir()));
        Assert.StartsWith("--compare: ", e.Message);
    }
}

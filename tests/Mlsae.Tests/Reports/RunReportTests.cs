using Mlsae.Reports;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.Reports;

/// <summary>The figures and the HTML report of a hand-made run folder, read back from its typed results.</summary>
public class RunReportTests
{
    [Fact]
    public void DrawDrawsEveryFigureTheResultsAllow()
    {
        var dir = SampleResults.RunWithResults();
        var written = RunFigures.Draw(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(["dists_heatmap.png", "dists_histogram.png", "dists_histogram_noninteger.png", "eval_delta_ce_loss.png", "eval_fvu.png", "eval_l0.png", "prompt.png"], written);
    }

    [Fact]
    public void TheReportHasASectionPerResultAndEmbedsEveryFigure()
    {
        var dir = SampleResults.RunWithResults();
        RunFigures.Draw(dir);
        var path = Path.Combine(dir, "report.html");
        RunReport.Write(dir, path);
        var html = File.ReadAllText(path);
        Assert.Equal(html, RunReport.Html(dir));
        Assert.StartsWith("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>MLSAE on tiny-model</title>", html);
        Assert.Contains("<h2>Evaluation</h2><p>4,096 held-out tokens, 4 batches; dead fraction 0.0625 (per batch, the reference's), 0.03125 over all tokens.</p>", html);
        Assert.Contains("<th>FVU</th>", html);
        Assert.Contains("<td>—</td>", html);   // the NaN ΔCE loss of layer 2
        Assert.Contains("<tr><th style=\"text-align:left\">rel_var_f</th><td>0.95</td></tr>", html);
        Assert.DoesNotContain(">rel_var_t</th>", html);   // written as null
        Assert.Contains("<code>The cat &quot;sat&quot;.\n</code>", html);
        Assert.Contains("fires at 1.5 layers on average; 62.5% of (token, latent) pairs", html);
        Assert.Equal(7, html.Split("src=\"data:image/png;base64,").Length - 1);
        Assert.DoesNotContain("src=\"http", html);
        Assert.Contains("<h2>summary.md</h2><pre># MLSAE on tiny-model", html);
    }

    [Fact]
    public void AFolderWithOnlyRunJsonHasARunTableAndNoResults()
    {
        var dir = SampleResults.RunWithResults();
        foreach (var file in Directory.EnumerateFiles(dir).Where(f => Path.GetFileName(f) != "run.json")) File.Delete(file);
        Assert.Empty(RunFigures.Draw(dir));
        var html = RunReport.Html(dir);
        Assert.Contains("<th style=\"text-align:left\">model</th><td style=\"text-align:left\"><code>&quot;tiny-model&quot;</code></td>", html);
        Assert.DoesNotContain("<h2>Evaluation</h2>", html);
        Assert.DoesNotContain("<img", html);
    }

    [Fact]
    public void ABadResultFileIsAnErrorNamingIt()
    {
        var dir = SampleResults.RunWithResults();
        var variances = Path.Combine(dir, "variances.json");
        File.WriteAllText(variances, File.ReadAllText(variances)[..40]);
        var e = Assert.Throws<MlsaeException>(() => RunReport.Html(dir));
        Assert.StartsWith(variances + ": not valid JSON", e.Message);
    }

    [Fact]
    public void AFolderWithoutRunJsonIsNotARun()
    {
        var dir = Fixtures.TempDir();
        Assert.Contains("holds no run.json", Assert.Throws<MlsaeException>(() => RunReport.Html(dir)).Message);
        Assert.Contains("holds no run.json", Assert.Throws<MlsaeException>(() => RunFigures.Draw(dir)).Message);
    }

    [Fact]
    public void TheReportCommandDrawsTheFiguresAndWritesTheHtml()
    {
        var dir = SampleResults.RunWithResults();
        var r = CliRunner.Run("report", "--run", dir);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal($"wrote {Path.Combine(dir, "report.html")}\n", r.Out.ReplaceLineEndings("\n"));
        Assert.Equal(RunReport.Html(dir), File.ReadAllText(Path.Combine(dir, "report.html")));
        Assert.Equal(7, Directory.EnumerateFiles(dir, "*.png").Count());
    }

    [Fact]
    public void TheReportCommandNamesABadResultFileInOneLine()
    {
        var dir = SampleResults.RunWithResults();
        File.WriteAllText(Path.Combine(dir, "prompt.json"), "[]");
        var r = CliRunner.Run("report", "--run", dir);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: {Path.Combine(dir, "prompt.json")}: expected a JSON object, found an array\n", r.Error.ReplaceLineEndings("\n"));
        Assert.Contains("--run", CliRunner.Run("report", "--run", Fixtures.TempDir()).Error);
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.IO;
using Mlsae.Runs;
using Mlsae.Training;

namespace Mlsae.Reports;

/// <summary>
/// One self-contained HTML page for a run folder: its arguments, the evaluation table, the
/// variances over layers, the single-prompt summary, every PNG in the folder embedded, and
/// summary.md. It reads the typed results back through their loaders and draws nothing: call
/// <see cref="RunFigures.Draw"/> first for the figures.
/// </summary>
public static class RunReport
{
    const string Style = "body{font-family:sans-serif;max-width:1250px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        + "img{max-width:100%;border:1px solid #eee;margin:8px 0}code{background:#f4f4f4;padding:1px 4px}";

    /// <summary>Writes <see cref="Html"/> of <paramref name="dir"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string dir, string path, string? compare = null) => AtomicFile.WriteText(path, Html(dir, compare));

    /// <summary>The HTML of the run folder <paramref name="dir"/>, with a section for each result it holds.</summary>
    /// <remarks>With <paramref name="compare"/> (another run folder, e.g. the same run without a tuned
    /// lens), a table puts the multi-layer statistics of both runs side by side.</remarks>
    public static string Html(string dir, string? compare = null)
    {
        if (compare is not null && !Run.Exists(compare)) throw new MlsaeException($"--compare: {compare} holds no run.json (not a run folder)");
        var options = Run.Open(dir).Options;
        var html = new StringBuilder();
        string title = $"{SparseCoderFactory.Title(options.Autoencoder.Kind)} on {options.Model.Name}";
        html.Append($"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{Enc(title)}</title><style>").Append(Style).Append("</style></head><body>")
            .Append($"<h1>{Enc(title)}</h1>");
        html.Append("<h2>Run</h2><table>");
        foreach (var (k, v) in JsonNode.Parse(options.ToJson())!.AsObject())
            html.Append($"<tr><th style=\"text-align:left\">{Enc(k)}</th><td style=\"text-align:left\"><code>{Enc(v?.ToJsonString() ?? "null")}</code></td></tr>");
        html.Append("</table>");
        AppendKind(html, options.Autoencoder.Kind);
        if (Read(dir, Run.EvalFile, EvalResult.Load) is { } eval) AppendEval(html, eval);
        if (Read(dir, Run.VariancesFile, VarianceSummary.Load) is { } variances) AppendVariances(html, variances);
        if (compare is not null) AppendComparison(html, dir, compare);
        if (Read(dir, Run.PromptFile, PromptAnalysis.Load) is { } prompt) AppendPrompt(html, prompt);
        html.Append("<h2>Figures</h2>");
        foreach (var png in Directory.EnumerateFiles(dir, "*.png").Order(StringComparer.Ordinal))
            html.Append($"<h3>{Enc(Path.GetFileNameWithoutExtension(png))}</h3><img alt=\"{Enc(Path.GetFileName(png))}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(png))}\">");
        var summary = Path.Combine(dir, Run.SummaryFile);
        if (File.Exists(summary)) html.Append($"<h2>summary.md</h2><pre>{Enc(File.ReadAllText(summary))}</pre>");
        html.Append("</body></html>\n");
        return html.ToString();
    }

    static T? Read<T>(string dir, string name, Func<string, T> load) where T : class
    {
        var path = Path.Combine(dir, name);
        return File.Exists(path) ? load(path) : null;
    }

    /// <summary>How the figures read for a coder that is not an MLSAE.</summary>
    static void AppendKind(StringBuilder html, string kind)
    {
        if (kind == SparseCoderFactory.PerLayer)
            html.Append("<p>Per-layer SAEs: one SAE per layer, latents numbered across the family (latent l·F + f is latent f of the SAE at position l), "
                + "so every latent lives at exactly one layer of the heatmaps.</p>");
        else if (kind == SparseCoderFactory.Crosscoder)
            html.Append("<p>Crosscoder: one latent vector per token for all layers. Where an MLSAE shows its activation by layer, the heatmaps, variances and prompt show "
                + "each latent's share of its activation-weighted reconstruction per layer (activation × decoder-slice norm × the token's std at that layer); "
                + "<code>dists_decoder_share_heatmap</code> shows each latent's share of its decoder norm per layer. L0 per layer counts the latents whose "
                + "contribution at that layer exceeds the dead threshold.</p>");
    }

    static void AppendEval(StringBuilder html, EvalResult result)
    {
        var (headers, rows) = EvalSummary.Table(result);
        html.Append($"<h2>Evaluation</h2><p>{result.Tokens:N0} held-out tokens, {result.Batches} batches; {EvalSummary.DeadFractions(result)}.</p><table><tr>");
        foreach (var h in headers) html.Append($"<th>{Enc(h)}</th>");
        html.Append("</tr>");
        foreach (var row in rows) html.Append("<tr>" + string.Concat(row.Select(c => $"<td>{Enc(c)}</td>")) + "</tr>");
        html.Append("</table>");
    }

    static void AppendVariances(StringBuilder html, VarianceSummary variances)
    {
        html.Append("<h2>Variance over layers</h2><table>");
        // A value written as null (not finite) has no row.
        foreach (var (name, value) in variances.Values().Where(v => !double.IsNaN(v.Value)))
            html.Append($"<tr><th style=\"text-align:left\">{name}</th><td>{EvalSummary.Format(value)}</td></tr>");
        html.Append("</table><p><code>rel_var_t</code> = E[var over layers for single tokens] / E[var over layers in aggregate]: values well below 1 mean a latent is active at fewer layers for one token than over many tokens.</p>");
    }

    /// <summary>The statistics the paper's lens experiment compares, for a run and the compared run.</summary>
    public static IReadOnlyList<(string Name, double This, double Compared)> Comparison(string dir, string compare)
    {
        (double RelVarT, double LayerStd, double Single) Of(string folder)
        {
            var v = Read(folder, Run.VariancesFile, VarianceSummary.Load);
            var distsSummary = DistsFiles.SummaryPath(Path.Combine(folder, Run.DistsFile));
            var d = File.Exists(distsSummary) ? DistsSummary.Load(distsSummary) : null;
            return (v?.RelVarT ?? double.NaN, d?.LayerStdMean ?? double.NaN, v?.SingleLayerFraction ?? double.NaN);
        }
        var (a, b) = (Of(dir), Of(compare));
        return [("rel_var_t", a.RelVarT, b.RelVarT), ("layer_std mean", a.LayerStd, b.LayerStd), ("single_layer_fraction", a.Single, b.Single)];
    }

    static void AppendComparison(StringBuilder html, string dir, string compare)
    {
        html.Append($"<h2>Compared with {Enc(compare)}</h2><table><tr><th></th><th>this run</th><th>{Enc(Path.GetFileName(Path.TrimEndingDirectorySeparator(compare)))}</th></tr>");
        foreach (var (name, a, b) in Comparison(dir, compare))
            html.Append($"<tr><th style=\"text-align:left\">{name}</th><td>{EvalSummary.Format(a)}</td><td>{EvalSummary.Format(b)}</td></tr>");
        html.Append("</table><p><code>rel_var_t</code>: a latent's variance over layers for single tokens relative to its aggregate variance; "
            + "<code>layer_std mean</code>: the mean over latents of the std of their activation over layers (dists); "
            + "<code>single_layer_fraction</code>: the share of (token, latent) pairs active at ≥ 1 layer that are active at exactly one. "
            + "A value that could not be read (an older run) is shown as NaN.</p>");
    }

    static void AppendPrompt(StringBuilder html, PromptAnalysis prompt)
    {
        html.Append($"<h2>One prompt</h2><p><code>{Enc(prompt.Prompt)}</code></p>");
        if (!double.IsNaN(prompt.LayersPerTokenLatentMean) && !double.IsNaN(prompt.SingleLayerFraction))
            html.Append($"<p>For a single token, an active latent fires at {EvalSummary.Format(prompt.LayersPerTokenLatentMean)} layers on average; "
                + $"{EvalSummary.Format(100 * prompt.SingleLayerFraction)}% of (token, latent) pairs fire at exactly one layer. See <code>prompt.png</code> below and <code>dists_heatmap.png</code> for the aggregate.</p>");
    }

    static string Enc(string s) => WebUtility.HtmlEncode(s);
}

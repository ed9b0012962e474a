using System.CommandLine;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Evaluation;
using Mlsae.IO;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae report</c>: one self-contained HTML file (figures embedded) for a run folder.</summary>
public static class ReportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var run = new Option<string>("--run") { Description = "Run folder (from mlsae train)", Required = true };
        var output = new Option<string?>("--out") { Description = "Output HTML (default: <run>/report.html)" };
        var command = new Command("report", "An offline HTML report of a run: metrics table and figures") { run, output };
        command.SetAction(parse => console.Guard(() =>
        {
            var dir = parse.GetValue(run)!;
            var path = parse.GetValue(output) ?? Path.Combine(dir, "report.html");
            Write(dir, path);
            console.Out.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }

    /// <summary>Builds the figures the run's files allow and writes the HTML.</summary>
    internal static void Write(string dir, string path)
    {
        if (!RunFolder.IsRun(dir)) throw new MlsaeException($"--run: {dir} holds no run.json (not a run folder)");
        var options = RunFolder.Options(dir);
        var html = new StringBuilder();
        string title = $"MLSAE on {options.Model}";
        html.Append($"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{Enc(title)}</title><style>")
            .Append("body{font-family:sans-serif;max-width:1250px;margin:2em auto;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}")
            .Append("img{max-width:100%;border:1px solid #eee;margin:8px 0}code{background:#f4f4f4;padding:1px 4px}</style></head><body>")
            .Append($"<h1>{Enc(title)}</h1>");
        html.Append("<h2>Run</h2><table>");
        foreach (var (k, v) in JsonNode.Parse(options.ToJson())!.AsObject())
            html.Append($"<tr><th style=\"text-align:left\">{Enc(k)}</th><td style=\"text-align:left\"><code>{Enc(v?.ToJsonString() ?? "null")}</code></td></tr>");
        html.Append("</table>");
        var evalPath = Path.Combine(dir, "eval.json");
        if (File.Exists(evalPath))
        {
            var result = ReadEval(evalPath);
            var (headers, rows) = EvalSummary.Table(result);
            html.Append($"<h2>Evaluation</h2><p>{result.Tokens:N0} held-out tokens, {result.Batches} batches; dead fraction {EvalSummary.Format(result.DeadFraction)}.</p><table><tr>");
            foreach (var h in headers) html.Append($"<th>{Enc(h)}</th>");
            html.Append("</tr>");
            foreach (var row in rows) html.Append("<tr>" + string.Concat(row.Select(c => $"<td>{Enc(c)}</td>")) + "</tr>");
            html.Append("</table>");
            foreach (var (metric, label) in new[] { ("fvu", "FVU"), ("l0", "L0"), ("delta_ce_loss", "ΔCE loss") })
                if (result.PerLayer.ContainsKey(metric))
                {
                    var png = Path.Combine(dir, $"eval_{metric}.png");
                    Figures.Figures.LayerBars(result, metric, label, $"{label} by layer — {options.Model}", png);
                }
        }
        var variances = Path.Combine(dir, "variances.json");
        if (File.Exists(variances))
        {
            var v = JsonNode.Parse(File.ReadAllText(variances))!.AsObject();
            html.Append("<h2>Variance over layers</h2><table>");
            foreach (var key in new[] { "exp_var_l_f", "exp_var_l_tf", "var_l", "rel_var_f", "rel_var_t" })
                if (v[key] is JsonValue n) html.Append($"<tr><th style=\"text-align:left\">{key}</th><td>{EvalSummary.Format(n.GetValue<double>())}</td></tr>");
            html.Append("</table><p><code>rel_var_t</code> = E[var over layers for single tokens] / E[var over layers in aggregate]: values well below 1 mean a latent is active at fewer layers for one token than over many tokens.</p>");
        }
        var promptPath = Path.Combine(dir, "prompt.json");
        if (File.Exists(promptPath))
        {
            var p = JsonNode.Parse(File.ReadAllText(promptPath))!.AsObject();
            html.Append($"<h2>One prompt</h2><p><code>{Enc(p["prompt"]?.GetValue<string>() ?? "")}</code></p>");
            if (p["layers_per_token_latent_mean"] is JsonValue span && p["single_layer_fraction"] is JsonValue single)
                html.Append($"<p>For a single token, an active latent fires at {EvalSummary.Format(span.GetValue<double>())} layers on average; "
                    + $"{EvalSummary.Format(100 * single.GetValue<double>())}% of (token, latent) pairs fire at exactly one layer. See <code>prompt.png</code> below and <code>dists_heatmap.png</code> for the aggregate.</p>");
        }
        html.Append("<h2>Figures</h2>");
        foreach (var png in Directory.EnumerateFiles(dir, "*.png").Order(StringComparer.Ordinal))
            html.Append($"<h3>{Enc(Path.GetFileNameWithoutExtension(png))}</h3><img alt=\"{Enc(Path.GetFileName(png))}\" src=\"data:image/png;base64,{Convert.ToBase64String(File.ReadAllBytes(png))}\">");
        var summary = Path.Combine(dir, "summary.md");
        if (File.Exists(summary)) html.Append($"<h2>summary.md</h2><pre>{Enc(File.ReadAllText(summary))}</pre>");
        html.Append("</body></html>\n");
        AtomicFile.WriteText(path, html.ToString());
    }

    static string Enc(string s) => WebUtility.HtmlEncode(s);

    /// <summary>Reads an eval.json back into an <see cref="EvalResult"/>.</summary>
    internal static EvalResult ReadEval(string path)
    {
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var layers = json["layers"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
            var perLayer = EvalResult.MetricOrder.Where(json.ContainsKey)
                .ToDictionary(m => m, m => json[m]!.AsArray().Select(n => n?.GetValue<double>() ?? double.NaN).ToArray());
            return new EvalResult(layers, json["tokens"]!.GetValue<long>(), json["batches"]?.GetValue<int>() ?? 0, perLayer, json["dead_fraction"]!.GetValue<double>());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw MlsaeException.From($"{path}: not a valid eval.json", e);
        }
    }
}

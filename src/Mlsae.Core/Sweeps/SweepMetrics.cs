using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Mlsae.Evaluation;
using Mlsae.IO;

namespace Mlsae.Sweeps;

/// <summary>
/// A sweep member's metrics as <c>sweep.json</c> and <c>sweep.md</c> tabulate them: the per-layer
/// arrays of its eval.json (FVU, MSE, L0, L1, ΔCE, KL, logit MSE) and their means, the dead fraction,
/// its parameter count and active codes per token — so the kinds compare cell by cell.
/// </summary>
public static class SweepMetrics
{
    static readonly string[] Tabulated = ["fvu", "mse", "l0", "l1", "delta_ce_loss", "kl_div", "logit_mse"];

    /// <summary>Adds the metrics of <paramref name="outcome"/> to its <c>sweep.json</c> row.</summary>
    public static void Add(JsonObject row, SweepMemberOutcome outcome)
    {
        row["parameters"] = outcome.Parameters;
        row["active_codes_per_token"] = outcome.ActiveCodesPerToken;
        if (outcome.Failure is not null) row["failure"] = outcome.Failure;
        if (outcome.Outcome is not { } trained) return;
        row["steps"] = trained.State.Step;
        row["tokens"] = trained.State.Tokens;
        if (trained.Eval is not { } eval) return;
        row["layers"] = new JsonArray(eval.Layers.Select(l => (JsonNode?)l).ToArray());
        foreach (var metric in Tabulated)
        {
            if (!eval.PerLayer.TryGetValue(metric, out var values)) continue;
            row[metric] = new JsonArray(values.Select(v => JsonNumbers.Of(v)).ToArray());
            row[$"{metric}_mean"] = JsonNumbers.Of(values.Average());
        }
        row["dead_fraction"] = JsonNumbers.Of(eval.DeadFraction);
        row["dead_fraction_total"] = JsonNumbers.Of(eval.DeadFractionTotal);
    }

    /// <summary>The <c>sweep.md</c> text: one row per member with its means, then FVU and ΔCE per layer.</summary>
    public static string Markdown(string title, IReadOnlyList<SweepMemberOutcome> outcomes)
    {
        var md = new StringBuilder($"# {title}\n\n");
        md.Append("| member | kind | x | k | parameters | active codes / token | FVU | MSE | L0 | ΔCE | KL | dead |\n");
        md.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var o in outcomes)
        {
            var eval = o.Outcome?.Eval;
            string Mean(string metric) => eval is not null && eval.PerLayer.TryGetValue(metric, out var v) ? EvalSummary.Format(v.Average()) : "–";
            md.Append($"| {o.Member.Dir} | {o.Member.Kind} | {o.Member.ExpansionFactor} | {o.Member.K} | {o.Parameters.ToString("N0", CultureInfo.InvariantCulture)} | {o.ActiveCodesPerToken} | ")
              .Append($"{Mean("fvu")} | {Mean("mse")} | {Mean("l0")} | {Mean("delta_ce_loss")} | {Mean("kl_div")} | ")
              .Append(eval is null ? (o.Failure is null ? "–" : "diverged") : EvalSummary.Format(eval.DeadFraction)).Append(" |\n");
        }
        foreach (var metric in new[] { "fvu", "delta_ce_loss" })
        {
            var evals = outcomes.Where(o => o.Outcome?.Eval?.PerLayer.ContainsKey(metric) == true).ToList();
            if (evals.Count == 0) continue;
            var layers = evals[0].Outcome!.Eval!.Layers;
            md.Append($"\n## {(metric == "fvu" ? "FVU" : "ΔCE")} per layer\n\n| member | ").Append(string.Join(" | ", layers.Select(l => $"layer {l}"))).Append(" |\n| --- |")
              .Append(string.Concat(layers.Select(_ => " --- |"))).Append('\n');
            foreach (var o in evals)
                md.Append($"| {o.Member.Dir} | ").Append(string.Join(" | ", o.Outcome!.Eval!.PerLayer[metric].Select(EvalSummary.Format))).Append(" |\n");
        }
        if (outcomes.Any(o => o.Failure is not null))
            md.Append("\n").Append(string.Concat(outcomes.Where(o => o.Failure is not null).Select(o => $"- {o.Member.Dir}: {o.Failure}\n")));
        return md.ToString();
    }

    /// <summary>Writes <c>sweep.md</c> into the sweep folder.</summary>
    public static void WriteMarkdown(Sweep sweep, string title, IReadOnlyList<SweepMemberOutcome> outcomes) =>
        AtomicFile.WriteText(Path.Combine(sweep.Folder, Sweep.MarkdownFile), Markdown(title, outcomes));
}

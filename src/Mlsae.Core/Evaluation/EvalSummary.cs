using System.Globalization;
using System.Text;

namespace Mlsae.Evaluation;

/// <summary>A short human-readable summary of an evaluation: one row per layer.</summary>
public static class EvalSummary
{
    static readonly (string Key, string Header)[] Columns =
    [
        ("fvu", "FVU"), ("mse", "MSE"), ("l0", "L0"), ("l1", "L1"), ("delta_ce_loss", "ΔCE loss"), ("kl_div", "KL"), ("logit_mse", "logit MSE"),
    ];

    /// <summary>The columns present in <paramref name="result"/>, with their values per layer and the mean row.</summary>
    public static (string[] Headers, List<string[]> Rows) Table(EvalResult result)
    {
        var present = Columns.Where(c => result.PerLayer.ContainsKey(c.Key)).ToArray();
        var headers = new[] { "layer" }.Concat(present.Select(c => c.Header)).ToArray();
        var rows = new List<string[]>();
        for (int i = 0; i < result.Layers.Length; i++)
            rows.Add([result.Layers[i].ToString(CultureInfo.InvariantCulture), .. present.Select(c => Format(result.PerLayer[c.Key][i]))]);
        rows.Add(["mean", .. present.Select(c => Format(result.Mean(c.Key)))]);
        return (headers, rows);
    }

    /// <summary>A number with four significant digits.</summary>
    public static string Format(double v) => double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : "—";

    /// <summary>Both dead fractions in words: the reference's per-batch one and the count over all tokens.</summary>
    public static string DeadFractions(EvalResult result) =>
        $"dead fraction {Format(result.DeadFraction)} (per batch, the reference's), {Format(result.DeadFractionTotal)} over all tokens";

    /// <summary>Markdown: a heading line, the table and the dead fractions.</summary>
    public static string Markdown(string title, EvalResult result, IEnumerable<string> notes)
    {
        var (headers, rows) = Table(result);
        var text = new StringBuilder();
        text.AppendLine($"# {title}").AppendLine();
        foreach (var note in notes) text.AppendLine($"- {note}");
        text.AppendLine().AppendLine($"Evaluated on {result.Tokens:N0} tokens ({result.Batches} batches); {DeadFractions(result)}.").AppendLine();
        text.AppendLine("| " + string.Join(" | ", headers) + " |");
        text.AppendLine("|" + string.Concat(headers.Select(_ => " --- |")));
        foreach (var row in rows) text.AppendLine("| " + string.Join(" | ", row) + " |");
        return text.ToString();
    }
}

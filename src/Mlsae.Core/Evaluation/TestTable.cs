using System.Globalization;
using System.Text;
using Mlsae.IO;

namespace Mlsae.Evaluation;

/// <summary>One SAE's row of <see cref="TestTable"/>: what identifies it and its evaluation.</summary>
/// <param name="Sae">The SAE as given (a run folder, a checkpoint folder or a hub id).</param>
/// <param name="Model">The model it was evaluated on.</param>
/// <param name="NInputs">D, the model's hidden size.</param>
/// <param name="NLatents">F.</param>
/// <param name="K">Latents kept per vector.</param>
/// <param name="Result">Its evaluation; downstream metrics and the loss terms are required.</param>
public sealed record TestTableRow(string Sae, string Model, int NInputs, int NLatents, int K, EvalResult Result);

/// <summary>
/// The reference's <c>test.py</c> table (<c>trainer.test</c>'s logged metrics written with pandas):
/// one row per SAE with its column names, <c>train/dead/rel</c>, <c>train/{l1,mse,fvu}/layer_i</c>,
/// <c>val/loss/delta/layer_i</c>, <c>val/logit/mse/layer_i</c>, <c>val/logit/kldiv/layer_i</c> (i the
/// model layer index, each group followed by its <c>avg</c> over layers), <c>loss/total</c>,
/// <c>loss/mse</c>, <c>loss/auxk</c>; preceded by columns naming the SAE, which the reference keeps
/// in the file name instead. Appending rows to an existing file makes several SAEs one table.
/// </summary>
public static class TestTable
{
    static readonly (string Metric, string Prefix)[] PerLayer =
    [
        ("l1", "train/l1/"), ("mse", "train/mse/"), ("fvu", "train/fvu/"),
        ("delta_ce_loss", "val/loss/delta/"), ("logit_mse", "val/logit/mse/"), ("kl_div", "val/logit/kldiv/"),
    ];

    /// <summary>The column names for SAEs read at <paramref name="layers"/> (model layer indices).</summary>
    public static string[] Header(IReadOnlyList<int> layers) =>
    [
        "sae", "model", "expansion_factor", "k", "n_latents", "tokens", "train/dead/rel",
        .. PerLayer.SelectMany(c => layers.Select(l => $"{c.Prefix}layer_{l}").Append(c.Prefix + "avg")),
        "loss/total", "loss/mse", "loss/auxk",
    ];

    /// <summary>The row's values in <see cref="Header"/>'s order; numbers round-trip, non-finite ones are empty (as pandas writes NaN).</summary>
    public static string[] Values(TestTableRow row)
    {
        var result = row.Result;
        var loss = result.Loss ?? throw new ArgumentException("the evaluation has no loss terms", nameof(row));
        var missing = PerLayer.FirstOrDefault(c => !result.PerLayer.ContainsKey(c.Metric)).Metric;
        if (missing is not null) throw new ArgumentException($"the evaluation has no '{missing}' (downstream metrics are required)", nameof(row));
        double expansion = (double)row.NLatents / row.NInputs;
        return
        [
            row.Sae, row.Model, Number(expansion), row.K.ToString(CultureInfo.InvariantCulture), row.NLatents.ToString(CultureInfo.InvariantCulture),
            result.Tokens.ToString(CultureInfo.InvariantCulture), Number(result.DeadFraction),
            .. PerLayer.SelectMany(c => result.PerLayer[c.Metric].Select(Number).Append(Number(result.Mean(c.Metric)))),
            Number(loss.Total), Number(loss.Mse), Number(loss.AuxK),
        ];
    }

    static string Number(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>Fails, naming <paramref name="path"/>, when it exists with another header than <paramref name="header"/>.</summary>
    public static void CheckHeader(string path, IReadOnlyList<string> header) => ExistingRows(path, header);

    /// <summary>
    /// Appends <paramref name="rows"/> to the table at <paramref name="path"/>: a new file gets the
    /// header first; an existing one must have the same header (else an error naming the file and the
    /// first differing column). The whole file is written to a temp file and renamed over the old one,
    /// so a reader sees the table before or after the append, never half of it.
    /// </summary>
    public static void Append(string path, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var existing = ExistingRows(path, header);
        var text = new StringBuilder(existing ?? Line(header) + "\n");
        foreach (var row in rows)
        {
            if (row.Count != header.Count) throw new ArgumentException($"a row of {row.Count} values for {header.Count} columns", nameof(rows));
            text.Append(Line(row)).Append('\n');
        }
        AtomicFile.WriteText(path, text.ToString());
    }

    /// <summary>The file's text (ending in a newline) when it exists and is not empty, after checking its header; else null.</summary>
    static string? ExistingRows(string path, IReadOnlyList<string> header)
    {
        if (!File.Exists(path)) return null;
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MlsaeException($"{path}: cannot be read ({e.Message})", e); }
        if (text.Length == 0) return null;
        int end = text.IndexOf('\n');
        var found = SplitLine((end < 0 ? text : text[..end]).TrimEnd('\r'));
        for (int i = 0; i < Math.Max(found.Count, header.Count); i++)
        {
            if (i < found.Count && i < header.Count && found[i] == header[i]) continue;
            string theirs = i < found.Count ? $"'{found[i]}'" : "missing";
            string ours = i < header.Count ? $"'{header[i]}'" : "none";
            throw new MlsaeException($"{path}: its header does not match this table's ({found.Count} columns, this table {header.Count}; column {i + 1} is {theirs}, expected {ours}); write to another --out");
        }
        return text.EndsWith('\n') ? text : text + "\n";
    }

    /// <summary>One CSV line (RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled).</summary>
    static string Line(IEnumerable<string> fields) => string.Join(",", fields.Select(f =>
        f.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + f.Replace("\"", "\"\"") + "\"" : f));

    /// <summary>The fields of a header line written by <see cref="Line"/>.</summary>
    static List<string> SplitLine(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted && c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
            else if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { fields.Add(field.ToString()); field.Clear(); }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }
}

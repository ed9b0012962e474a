using System.CommandLine;
using System.Text.Json.Nodes;
using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.IO;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae variances</c>: the paper's aggregate-versus-single-token variance of latents over layers.</summary>
public static class VariancesCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions();
        var output = new Option<string>("--out") { Description = "Output JSON", Required = true };
        var command = new Command("variances", "exp_var_l_f, exp_var_l_tf, var_l, rel_var_f, rel_var_t as the reference computes them (per-batch means)") { output };
        analysis.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            using var session = analysis.Open(parse, console);
            var result = Compute(session, console);
            var json = new JsonObject();
            foreach (var (k, v) in result.Values) json[k] = JsonNumbers.Of(v);
            json["batches"] = result.Batches;
            json["tokens"] = result.Tokens;
            foreach (var (k, v) in session.Metadata()) json[k] = v;
            AtomicFile.WriteText(parse.GetValue(output)!, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
            console.Out.WriteLine(string.Join(", ", result.Values.Select(kv => $"{kv.Key} {EvalSummary.Format(kv.Value)}"))
                + $" over {result.Batches} batches of {session.BatchSize} × {session.MaxLength} tokens");
            return 0;
        }));
        return command;
    }

    internal static (IReadOnlyDictionary<string, double> Values, int Batches, long Tokens) Compute(AnalysisOptions.Session session, CliConsole console)
    {
        var sae = session.Autoencoder;
        var variances = new LayerVariances(session.Context.Layers.Length, sae.NLatents);
        long tokens = session.Encode("variances", console, (_, output) => variances.Add(output.TopKRaw, output.TopK.Indices));
        return (variances.Result(), variances.Batches, tokens);
    }
}

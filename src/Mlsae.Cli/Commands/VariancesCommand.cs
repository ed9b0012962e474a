using System.CommandLine;
using Mlsae.Analysis;
using Mlsae.Evaluation;

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
            var result = Compute(session, console) with { Metadata = session.Metadata() };
            result.Save(parse.GetValue(output)!);
            console.Out.WriteLine(string.Join(", ", result.Values().Select(v => $"{v.Name} {EvalSummary.Format(v.Value)}"))
                + $" over {result.Batches} batches of {session.Data.BatchSize} × {session.Data.MaxLength} tokens");
            return 0;
        }));
        return command;
    }

    static VarianceSummary Compute(AnalysisSession session, CliConsole console)
    {
        var sae = session.Sae;
        var variances = new LayerVariances(session.Model.Layers.Length, sae.NLatents);
        long tokens = session.Encode("variances", console, (_, output) => variances.Add(output.TopKRaw, output.TopK.Indices));
        return VarianceSummary.From(variances) with { Tokens = tokens };
    }
}

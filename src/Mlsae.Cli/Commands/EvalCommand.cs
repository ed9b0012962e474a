using System.CommandLine;
using Mlsae.Data;
using Mlsae.Evaluation;
using Mlsae.Models;
using Mlsae.Training;
using Spectre.Console;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae eval</c>: reconstruction, sparsity and downstream metrics of an MLSAE on data.</summary>
public static class EvalCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions();
        var deadTokens = new Option<long?>("--dead-tokens-threshold") { Description = "Dead if selected fewer than tokens / this times (default: the run's, else 10M)" };
        var noDownstream = new Option<bool>("--no-downstream") { Description = "Skip the downstream metrics (ΔCE loss, KL, logit MSE)" };
        var output = new Option<string>("--out") { Description = "Metrics JSON", Required = true };
        var command = new Command("eval", "Evaluate an MLSAE: FVU, MSE, L1, L0, ΔCE loss, KL, logit MSE per layer, and the dead fraction")
        {
            deadTokens, noDownstream, output,
        };
        analysis.AddTo(command);
        var distributed = new DistributedOptions();
        distributed.AddTo(command);
        command.SetAction(parse => console.Guard(() => distributed.Run(parse, console, world =>
        {
            var (ranks, log) = distributed.Start(parse, console, world);
            using var session = analysis.OpenAgreed(parse, log, ranks, null, $"downstream={!parse.GetValue(noDownstream)}", $"dead={parse.GetValue(deadTokens)}");
            var result = log.Progress("eval", session.MaxBatches * session.Data.BatchSize * session.Data.MaxLength, "tokens", done =>
                MlsaeEvaluator.Run(session.Stream, session.Sae, session.Batches().Select(b => b.Sequences), !parse.GetValue(noDownstream),
                    parse.GetValue(deadTokens) ?? session.Run?.Autoencoder.DeadTokensThreshold ?? 10_000_000, (int)Math.Min(int.MaxValue, session.MaxBatches), done,
                    parallel: ranks));
            if (!ranks.Writes()) return 0;   // rank 0 writes the merge
            result.Save(parse.GetValue(output)!);
            Print(result, log);
            return 0;
        })));
        return command;
    }

    /// <summary>Prints the per-layer table.</summary>
    static void Print(EvalResult result, CliConsole console)
    {
        var (headers, rows) = EvalSummary.Table(result);
        var table = new Table().Border(TableBorder.Simple);
        foreach (var h in headers) table.AddColumn(new TableColumn(Markup.Escape(h)).RightAligned());
        foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        ansi.Write(table);
        console.Out.WriteLine($"{EvalSummary.DeadFractions(result)} ({result.Tokens:N0} tokens), layers [{string.Join(", ", result.Layers)}]");
    }
}

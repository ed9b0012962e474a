using System.CommandLine;
using Mlsae.Analysis;
using Mlsae.Training;
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
        var distributed = new DistributedOptions();
        distributed.AddTo(command);
        command.SetAction(parse => console.Guard(() => distributed.Run(parse, console, world =>
        {
            var (ranks, log) = distributed.Start(parse, console, world);
            using var session = analysis.OpenAgreed(parse, log, ranks);
            var result = Compute(session, log, ranks) with { Metadata = session.Metadata() };
            if (!ranks.Writes()) return 0;   // rank 0 writes the merge
            result.Save(parse.GetValue(output)!);
            log.Out.WriteLine(string.Join(", ", result.Values().Select(v => $"{v.Name} {EvalSummary.Format(v.Value)}"))
                + $" over {result.Batches} batches of {session.Data.BatchSize} × {session.Data.MaxLength} tokens");
            return 0;
        })));
        return command;
    }

    static VarianceSummary Compute(AnalysisSession session, CliConsole console, IDataParallel? ranks)
    {
        var sae = session.Sae;
        var variances = new LayerVariances(session.Model.Layers.Length, sae.NLatents);
        // A batch's first sequence index orders the batches of all ranks as one process reads them.
        var tokens = new[] { session.Encode("variances", console, (batch, output) => variances.Add(output.TopKRaw, output.TopK.Indices, batch.Indices[0])) };
        if (ranks is not null)
        {
            variances.GatherOverRanks(ranks);
            Distributed.RankGather.Sum(ranks, tokens);
        }
        return VarianceSummary.From(variances) with { Tokens = tokens[0] };
    }
}

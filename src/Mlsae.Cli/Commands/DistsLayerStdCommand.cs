using System.CommandLine;
using Mlsae.Analysis;
using Mlsae.Reports;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae dists layer-std</c>: the reference's <c>dists_layer_std</c> table over several
/// SAEs' dists files, with the <c>_rel</c> columns, and its figure.</summary>
public static class DistsLayerStdCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var inputs = new Argument<string[]>("inputs") { Description = "dists files, one per SAE", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Output CSV (one row per SAE); the PNG is written beside it", Required = true };
        var noFigures = new Option<bool>("--no-figures") { Description = "Skip the PNG figure" };
        var command = new Command("layer-std", "Table of layer_std mean/var/std/sem (and / L) over several SAEs' dists") { inputs, output, noFigures };
        command.SetAction(parse => console.Guard(() =>
        {
            var rows = parse.GetValue(inputs)!.Select(file =>
            {
                var (dists, metadata) = LayerDists.Load(file);
                return LayerStdRow.From(dists, metadata, file);
            }).ToList();
            var path = parse.GetValue(output)!;
            LayerStdRow.SaveCsv(rows, path);
            bool figures = !parse.GetValue(noFigures);
            if (figures) DistsFigures.LayerStdTable(rows, Path.ChangeExtension(path, ".png"));
            console.Out.WriteLine($"wrote {path}{(figures ? " and .png" : "")}: {rows.Count} SAEs");
            foreach (var r in rows)
                console.Out.WriteLine($"  {r.Source}: layer_std mean {Evaluation.EvalSummary.Format(r.Mean)} (sem {Evaluation.EvalSummary.Format(r.Sem)}), mean_rel {Evaluation.EvalSummary.Format(r.MeanRel)}");
            return 0;
        }));
        return command;
    }
}

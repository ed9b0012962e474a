using System.CommandLine;
using Mlsae.Analysis;
using Mlsae.Reports;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae dists</c>: latent activation distributions over layers, and <c>dists merge</c> for shards.</summary>
public static class DistsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions();
        var output = new Option<string>("--out") { Description = "Output safetensors (JSON/CSV summaries and PNG figures are written beside it)", Required = true };
        var noFigures = new Option<bool>("--no-figures") { Description = "Skip the PNG figures" };
        var command = new Command("dists", "Counts and totals [L, F] of each latent's TopK activations per layer; mean/var/std of its layer") { output, noFigures };
        analysis.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            using var session = analysis.Open(parse, console);
            var dists = Compute(session, console);
            Save(dists, session.Metadata(), parse.GetValue(output)!, !parse.GetValue(noFigures), console);
            return 0;
        }));
        command.Subcommands.Add(Merge(console));
        return command;
    }

    static LayerDists Compute(AnalysisSession session, CliConsole console)
    {
        var sae = session.Sae;
        var dists = new LayerDists(session.Model.Layers.Length, sae.NLatents);
        session.Encode("dists", console, (_, output) => dists.Add(output.TopKRaw, output.TopK.Indices));
        if (dists.Tokens == 0) throw new MlsaeException("dists: no data (the source holds no full sequence)");
        return dists;
    }

    /// <summary>Writes the dists, their summaries and (unless <paramref name="figures"/> is false) their figures; prints what it wrote.</summary>
    static void Save(LayerDists dists, Dictionary<string, string> metadata, string path, bool figures, CliConsole console)
    {
        var summary = DistsFiles.Save(dists, metadata, path);
        if (figures) RunFigures.Dists(dists, metadata, path);
        console.Out.WriteLine(summary.Describe(path, figures));
    }

    static Command Merge(CliConsole console)
    {
        var inputs = new Argument<string[]>("inputs") { Description = "dists of disjoint shards: files or dataset hub ids (as mlsae push writes)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Merged safetensors", Required = true };
        var noFigures = new Option<bool>("--no-figures") { Description = "Skip the PNG figures" };
        var command = new Command("merge", "Merge dists of shards into exactly the file one run over all the data writes") { inputs, output, noFigures };
        command.SetAction(parse => console.Guard(() =>
        {
            var hub = CliHub.Lazy(console);
            var files = parse.GetValue(inputs)!.Select(i => Hub.DatasetFile.Resolve(i, Runs.Run.DistsFile, "dists merge", hub)).ToList();
            var (merged, meta) = ShardMerge.Dists(files);
            Save(merged, meta, parse.GetValue(output)!, !parse.GetValue(noFigures), console);
            return 0;
        }));
        return command;
    }
}

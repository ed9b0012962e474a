using System.CommandLine;
using Mlsae.Analysis;
using Mlsae.Distributed;
using Mlsae.Training;
using Mlsae.Reports;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae dists</c>: latent activation distributions over layers; <c>dists merge</c> for
/// shards, and the figures over dists files, <c>dists cos-sim</c> and <c>dists layer-std</c>.</summary>
public static class DistsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions();
        var output = new Option<string>("--out") { Description = "Output safetensors (JSON/CSV summaries and PNG figures are written beside it)", Required = true };
        var noFigures = new Option<bool>("--no-figures") { Description = "Skip the PNG figures" };
        var order = HeatmapFlags.Order();
        var every = new Option<int>("--layer-std-every")
        {
            Description = "Batches between rows of the layer_std convergence table <stem>_layer_std_step.csv (the reference logs every 8); 0 for none",
            DefaultValueFactory = _ => LayerStdConvergence.DefaultEvery,
        };
        var command = new Command("dists", "Counts and totals [L, F] of each latent's TopK activations per layer; mean/var/std of its layer") { output, noFigures, order, every };
        analysis.AddTo(command);
        var distributed = new DistributedOptions();
        distributed.AddTo(command);
        command.SetAction(parse => console.Guard(() => distributed.Run(parse, console, world =>
        {
            var (ranks, log) = distributed.Start(parse, console, world);
            int n = parse.GetValue(every);
            if (n < 0) throw new MlsaeException($"--layer-std-every must be 0 or positive, got {n}");
            using var session = analysis.Open(parse, log, parallel: ranks);
            var metadata = session.Metadata();
            foreach (var (k, v) in CoderMetadata.Of(session.Sae)) metadata[k] = v;
            DistributedOptions.Agree(ranks, session, [.. CoderMetadata.Of(session.Sae).Select(kv => $"{kv.Key}={kv.Value}")]);
            if (ranks is not null && n > 0) log.Notice("dists: under MPI the layer_std convergence table is not written (it follows one pass over the batches in order; dists merge leaves it out too)");
            var convergence = n == 0 || ranks is not null ? null : new LayerStdConvergence(n, metadata);
            var dists = ranks is { } parallel ? DistsReduction.Compute(session, log, parallel) : LayerDists.Compute(session, log, convergence);
            if (!ranks.Writes()) return 0;   // rank 0 writes the sum
            var path = parse.GetValue(output)!;
            bool figures = !parse.GetValue(noFigures);
            Save(dists, metadata, path, figures, HeatmapFlags.OrderOf(parse, order), log);
            if (convergence is not null)
            {
                var csv = DistsFiles.LayerStdStepPath(path);
                convergence.SaveCsv(csv);
                if (figures) DistsFigures.LayerStdSteps(convergence, $"layer_std while reading the data — {RunFigures.Name(metadata)}", Path.ChangeExtension(csv, ".png"));
                log.Out.WriteLine($"wrote {csv}{(figures ? " and .png" : "")}: {convergence.Rows.Count} rows, every {n} batches");
            }
            return 0;
        })));
        command.Subcommands.Add(Merge(console));
        command.Subcommands.Add(DistsCosSimCommand.Create(console));
        command.Subcommands.Add(DistsLayerStdCommand.Create(console));
        return command;
    }

    /// <summary>Writes the dists, their summaries and (unless <paramref name="figures"/> is false) their figures; prints what it wrote.</summary>
    static void Save(LayerDists dists, Dictionary<string, string> metadata, string path, bool figures, HeatmapOrder order, CliConsole console)
    {
        var summary = DistsFiles.Save(dists, metadata, path);
        if (figures) RunFigures.Dists(dists, metadata, path, order);
        console.Out.WriteLine(summary.Describe(path, figures));
    }

    static Command Merge(CliConsole console)
    {
        var inputs = new Argument<string[]>("inputs") { Description = "dists of disjoint shards: files or dataset hub ids (as mlsae push writes)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Merged safetensors", Required = true };
        var noFigures = new Option<bool>("--no-figures") { Description = "Skip the PNG figures" };
        var order = HeatmapFlags.Order();
        var command = new Command("merge", "Merge dists of shards into exactly the file one run over all the data writes") { inputs, output, noFigures, order };
        command.SetAction(parse => console.Guard(() =>
        {
            var hub = CliHub.Lazy(console);
            var files = parse.GetValue(inputs)!.Select(i => DistsDataset.Resolve(i, "dists merge", hub)).ToList();
            var (merged, meta) = ShardMerge.Dists(files);
            Save(merged, meta, parse.GetValue(output)!, !parse.GetValue(noFigures), HeatmapFlags.OrderOf(parse, order), console);
            return 0;
        }));
        return command;
    }
}

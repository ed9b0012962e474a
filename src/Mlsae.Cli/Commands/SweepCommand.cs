using System.CommandLine;
using Mlsae.Embedded;
using Mlsae.Lens;
using Mlsae.Models;
using Mlsae.Reports;
using Mlsae.Runs;
using Mlsae.Sweeps;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae sweep</c>: train every combination of kinds, expansion factors and k from one
/// transformer pass per batch, each member into its own run folder, and tabulate them.</summary>
public static class SweepCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var flags = new TrainFlags(withShape: false);
        var output = new Option<string>("--out") { Description = "Sweep folder (one run folder per member inside)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the interrupted sweep in --out (its members' run.json give every other argument)" };
        var kinds = new Option<string>("--kind") { Description = "Comma-separated sparse coder kinds: mlsae, per-layer, crosscoder", DefaultValueFactory = _ => "mlsae" };
        var expansions = new Option<string?>("--expansion-factor") { Description = "Comma-separated expansion factors (default 16; 8 on the embedded model)" };
        var ks = new Option<string?>("-k", "--k") { Description = "Comma-separated k (default 32; 16 on the embedded model); a crosscoder member gets k × the number of layers" };
        var config = new Option<string?>("--config") { Description = "A JSON file naming each member instead: {\"members\": [{\"kind\", \"expansion_factor\", \"k\"}, …]} (k as written)" };
        var command = new Command("sweep", "Train several sparse coders (kinds × expansion factors × k) from one transformer pass per batch") { output, resume, kinds, expansions, ks, config };
        flags.AddTo(command);
        var distributed = new DistributedOptions();
        distributed.AddTo(command);
        command.SetAction(parse => console.Guard(() => distributed.Run(parse, console, world =>
        {
            // Under MPI every member trains data-parallel as train does; rank 0 alone logs and writes.
            var rank = TrainRank.Start(parse, console, distributed, world);
            var log = rank.Log;
            var folder = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(folder)) throw new MlsaeException("--out: an empty folder name");
            bool resuming = parse.GetValue(resume);
            if (resuming && !Sweep.Exists(folder)) throw new MlsaeException($"--resume: {folder} holds no {Sweep.SweepFile}");
            if (parse.GetValue(config) is not null && (!EmbeddedDefaults.Implicit(parse, kinds) || parse.GetValue(expansions) is not null || parse.GetValue(ks) is not null))
                throw new MlsaeException("--config: the members come from the file; leave out --kind, --expansion-factor and -k");
            using var runLock = rank.Lock(folder);
            var hub = CliHub.Lazy(log);
            var first = resuming ? Sweep.Open(folder).Members[0].Run : null;
            using var cache = first is not null ? flags.Activations.Reopen(parse, first.Options, first.Folder) : flags.Activations.Open(parse);
            var options = first?.Options.Validate() ?? rank.Recorded(flags.Options(parse, log, new TrainFlags.Shape("mlsae", 1, 1), cache));
            var (dev, type) = CommonOptions.ParseCompute(options.Runtime.Device, options.Model.DType ?? options.Autoencoder.DType);
            var given = parse.GetValue(flags.Lens.TunedLens);
            if (resuming && given is not null) throw new MlsaeException("--tuned-lens: a resumed sweep keeps the lens its members were started with");
            var tuned = resuming
                ? (options.Autoencoder.TunedLens is { } recorded ? TunedLensSource.OpenRecorded(recorded, options.Model.Name, hub, dev) : null)
                : (given is null ? null : TunedLensSource.Open(given, options.Model.Name, hub, dev));
            if (tuned is not null && !resuming) options = options with { Autoencoder = options.Autoencoder with { TunedLens = tuned.Reference } };
            using var model = ModelSession.Open(options.Model.Name, options.Model.Revision, LayerSelection.Format(options.Model.Layers) ?? parse.GetValue(flags.Layers),
                dev, type, options.Model.SkipSpecialTokens, hub, tuned is null ? null : TunedLensHook.For(tuned, options.Model.Name, options.Autoencoder.ReferenceQuirks),
                allowNonFiniteWeights: options.Model.AllowNonFiniteWeights);
            cache?.AttachTo(model, options.Data.MaxLength);
            Sweep sweep;
            if (resuming) sweep = Sweep.Open(folder);
            else
            {
                bool embedded = options.Model.Name == EmbeddedModel.Name;
                var d = EmbeddedModel.RunDefaults.Autoencoder;
                var members = parse.GetValue(config) is { } file
                    ? SweepPlan.FromConfig(file)
                    : SweepPlan.FromLists(parse.GetValue(kinds)!, parse.GetValue(expansions) ?? (embedded ? d.ExpansionFactor : 16).ToString(),
                        parse.GetValue(ks) ?? (embedded ? d.K : 32).ToString(), model.Layers.Length);
                if (members.Any(m => m.Kind == "crosscoder") && parse.GetValue(config) is null)
                    log.Notice($"sweep: crosscoder members keep k × {model.Layers.Length} layers active latents per token, as many codes as the other kinds keep over all layers");
                sweep = Sweep.Create(folder, RunTrainer.Resolve(options, model, log), members, rank.Writes);
            }
            log.Notice($"sweep: {sweep.Members.Count} members ({string.Join(", ", sweep.Members.Select(m => m.Member.Dir))}) from one transformer pass per batch{(resuming ? ", resuming" : "")}");
            var outcomes = new SweepTrainer(model, hub, log, rank.Parallel).Train(sweep, resuming);
            int exit = outcomes.Any(o => o.Failure is not null) ? 1 : 0;
            if (!rank.Writes) return exit;
            sweep.WriteTable(outcomes);
            SweepMetrics.WriteMarkdown(sweep, $"Sweep on {options.Model.Name}", outcomes);
            SweepFigures.Draw(sweep, outcomes, options.Model.Name);
            foreach (var o in outcomes.Where(o => o.Outcome?.Eval is not null))
            {
                RunFigures.Draw(o.Run.Folder);
                RunReport.Write(o.Run.Folder, o.Run.PathOf(Run.ReportFile));
            }
            log.Out.Write(SweepMetrics.Markdown($"Sweep on {options.Model.Name}", outcomes));
            log.Out.WriteLine($"wrote {folder}: {Sweep.SweepFile}, {Sweep.MarkdownFile}, {string.Join(", ", SweepFigures.Files.Values)}, and a run folder per member");
            return exit;
        })));
        return command;
    }
}

using System.CommandLine;
using Mlsae.Data;
using Mlsae.Hub;
using Mlsae.Lens;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Reports;
using Mlsae.Embedded;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae train</c>: train a sparse coder (an MLSAE by default; <c>--kind</c>) on a model's residual stream into a run folder.</summary>
public static class TrainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var flags = new TrainFlags();
        var output = new Option<string>("--out") { Description = "Run folder", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the interrupted run in --out (its run.json gives every other argument)" };
        var distributed = new DistributedOptions();
        var checkReplicas = new Option<bool>("--check-replicas") { Description = "Under MPI, compare a checksum of the parameters over the ranks after every optimizer step (always done at checkpoints) and print it" };
        var command = new Command("train", "Train a sparse coder (an MLSAE, per-layer SAEs or a crosscoder: --kind) on a language model's residual stream") { output, resume, checkReplicas };
        flags.AddTo(command);
        distributed.AddTo(command);
        command.SetAction(parse => console.Guard(() => distributed.Run(parse, console, world =>
        {
            var rank = TrainRank.Start(parse, console, distributed, world);
            var log = rank.Log;
            var runDir = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(runDir)) throw new MlsaeException("--out: an empty folder name");
            bool resuming = parse.GetValue(resume);
            if (resuming && !Run.Exists(runDir)) throw new MlsaeException($"--resume: {runDir} holds no run.json");
            using var runLock = rank.Lock(runDir);
            if (rank.Writes && !resuming && Run.Exists(runDir) && Run.HasCheckpoint(runDir))
                throw new MlsaeException($"--out: {runDir} already holds a run; pass --resume to continue it or choose another folder");
            using var cache = resuming ? flags.Activations.Reopen(parse, Run.Open(runDir).Options, runDir) : flags.Activations.Open(parse);
            var options = resuming ? Run.Open(runDir).Options.Validate() : rank.Recorded(flags.Options(parse, log, cache: cache)).Validate();
            var hub = CliHub.Lazy(log);
            var (dev, type) = CommonOptions.ParseCompute(options.Runtime.Device, options.Model.DType ?? options.Autoencoder.DType);
            var tuned = OpenLens(parse, options, resuming, hub, dev);
            if (tuned is not null && !resuming) options = options with { Autoencoder = options.Autoencoder with { TunedLens = tuned.Reference } };
            using var model = ModelSession.Open(options.Model.Name, options.Model.Revision, LayerSelection.Format(options.Model.Layers) ?? parse.GetValue(flags.Layers),
                dev, type, options.Model.SkipSpecialTokens, hub, tuned is null ? null : TunedLensHook.For(tuned, options.Model.Name, options.Autoencoder.ReferenceQuirks),
                allowNonFiniteWeights: options.Model.AllowNonFiniteWeights);
            cache?.AttachTo(model, options.Data.MaxLength);
            if (!resuming) options = WithKindK(parse, options, model.Layers.Length, log);
            var run = resuming ? Run.Open(runDir) : rank.Create(runDir, RunTrainer.Resolve(options, model, log));
            bool resumeState = resuming && run.HasState;
            if (resuming && !resumeState) log.Notice($"--resume: {runDir} has no checkpoint yet; starting the run from its beginning");
            var outcome = new RunTrainer(run, model, hub, log, rank.Parallel) { CheckReplicas = parse.GetValue(checkReplicas) }.Train(resumeState);
            if (outcome.Eval is not null)
            {
                RunFigures.Draw(run.Folder);
                RunReport.Write(run.Folder, run.PathOf(Run.ReportFile));
            }
            log.Out.WriteLine($"wrote {runDir}: checkpoint ({CheckpointFiles(run.Options)}), run.json, metrics.jsonl"
                + (outcome.Eval is not null ? ", eval.json, summary.md, dists (+ heatmap), variances.json, examples.db, report.html" : ""));
            if (outcome.Eval is not null) log.Out.WriteLine($"explore it in the browser: mlsae serve --sae {runDir}");
            return 0;
        })));
        return command;

        // A crosscoder's K counts a token's codes across its layers: without -k it gets L × the MLSAE's default,
        // so that a token has as many active codes as under the MLSAE; run.json records the value used.
        TrainOptions WithKindK(ParseResult parse, TrainOptions options, int layerCount, CliConsole console)
        {
            var a = options.Autoencoder;
            if (!EmbeddedDefaults.Implicit(parse, flags.K) || a.Kind != SparseCoderFactory.Crosscoder) return options;
            int chosen = SparseCoderFactory.DefaultK(a.Kind, a.K, layerCount);
            console.Notice($"-k: a crosscoder's k counts a token's codes across its {layerCount} layers; using {layerCount} × {a.K} = {chosen} (as many active codes per token as the MLSAE's k {a.K} at every layer)");
            return options with { Autoencoder = a with { K = chosen } };
        }

        // The checkpoint's files, as the kind lays them out.
        static string CheckpointFiles(TrainOptions options) => options.Autoencoder.Kind == SparseCoderFactory.PerLayer
            ? $"config.json, {string.Join(", ", (options.Model.Layers ?? []).Select(l => $"layer-{l}/"))}"
            : "config.json, model.safetensors";

        // The lens a new run is given, or the one a resumed run recorded (which it keeps: its SAE lives in that lens's space).
        Mlsae.Lens.TunedLens? OpenLens(ParseResult parse, TrainOptions options, bool resuming, Func<HubClient> hub, TorchSharp.torch.Device dev)
        {
            var given = parse.GetValue(flags.Lens.TunedLens);
            var recorded = options.Autoencoder.TunedLens;
            if (!resuming) return given is null ? null : TunedLensSource.Open(given, options.Model.Name, hub, dev);
            if (given is not null)
            {
                using var other = TunedLensSource.Open(given, options.Model.Name, hub, TorchSharp.torch.CPU);
                if (other.Reference.Sha256 != recorded?.Sha256)
                    throw new MlsaeException($"--tuned-lens: the run in {parse.GetValue(output)} was started {(recorded is null ? "without a lens" : $"with the lens {recorded}")}; a resumed run keeps its own");
            }
            return recorded is null ? null : TunedLensSource.OpenRecorded(recorded, options.Model.Name, hub, dev);
        }
    }
}

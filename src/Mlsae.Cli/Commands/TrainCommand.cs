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

/// <summary><c>mlsae train</c>: train an MLSAE on a model's residual stream into a run folder.</summary>
public static class TrainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var layers = CommonOptions.Layers();
        var data = new DataOptions();
        var valData = new Option<string?>("--val-data") { Description = "Validation data (default: the first --val-batches batches of --data, held out from training)" };
        var valBatches = new Option<int>("--val-batches") { Description = "Batches per validation", DefaultValueFactory = _ => 4 };
        var output = new Option<string>("--out") { Description = "Run folder", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the interrupted run in --out (its run.json gives every other argument)" };
        var expansion = new Option<int>("--expansion-factor") { Description = "Latents per input dimension", DefaultValueFactory = _ => 16 };
        var k = new Option<int>("-k", "--k") { Description = "Latents kept per vector (TopK)", DefaultValueFactory = _ => 32 };
        var auxk = new Option<int>("--auxk") { Description = "Dead latents in the AuxK loss (0 disables AuxK)", DefaultValueFactory = _ => 256 };
        var auxkCoef = new Option<double>("--auxk-coef") { Description = "AuxK loss coefficient", DefaultValueFactory = _ => 1.0 / 32 };
        var deadTokens = new Option<long>("--dead-tokens-threshold") { Description = "Tokens without firing after which a latent is dead", DefaultValueFactory = _ => 10_000_000 };
        var deadThreshold = new Option<double>("--dead-threshold") { Description = "Activation above which a latent fires", DefaultValueFactory = _ => 1e-3 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => 1e-4 };
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per batch", DefaultValueFactory = _ => 1 };
        var accumulate = new Option<int>("--accumulate-grad-batches") { Description = "Batches per optimizer step", DefaultValueFactory = _ => 64 };
        var maxTokens = new Option<long>("--max-tokens") { Description = "Tokens to train on", DefaultValueFactory = _ => 1_000_000_000 };
        var seed = new Option<long>("--seed") { Description = "Seed of the autoencoder's initialization", DefaultValueFactory = _ => 0 };
        var logEvery = new Option<int>("--log-every") { Description = "Optimizer steps between metrics.jsonl lines", DefaultValueFactory = _ => 1 };
        var valEvery = new Option<int>("--val-every") { Description = "Optimizer steps between validations (0: only at the end)", DefaultValueFactory = _ => 50 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Optimizer steps between resumable checkpoints", DefaultValueFactory = _ => 10 };
        var noStandardize = new Option<bool>("--no-standardize") { Description = "Do not standardize input vectors" };
        var quirks = new Option<bool>("--reference-quirks") { Description = "Reproduce the reference exactly: AuxK error in raw space with the bias, dead latents counted in forward calls against a threshold in optimizer steps, bias initialized from raw inputs" };
        var device = CommonOptions.Device();
        var dtype = CommonOptions.DType();
        var modelDType = new Option<string?>("--model-dtype") { Description = "Compute dtype of the transformer forward when it differs from --dtype (float32, bfloat16, float16)" };
        var noSkip = CommonOptions.NoSkipSpecialTokens();
        var allowNonFinite = CommonOptions.AllowNonFiniteWeights();
        var lens = new TunedLensOptions(withQuirks: false);
        var distributed = new DistributedOptions();
        var checkReplicas = new Option<bool>("--check-replicas") { Description = "Under MPI, compare a checksum of the parameters over the ranks after every optimizer step (always done at checkpoints) and print it" };
        var command = new Command("train", "Train a multi-layer SAE on a language model's residual stream")
        {
            model, revision, layers, valData, valBatches, output, resume, expansion, k, auxk, auxkCoef, deadTokens, deadThreshold, lr,
            batchSize, accumulate, maxTokens, seed, logEvery, valEvery, checkpointEvery, noStandardize, quirks, device, dtype, modelDType, noSkip, allowNonFinite,
            checkReplicas,
        };
        data.AddTo(command);
        lens.AddTo(command);
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
            var options = resuming ? Run.Open(runDir).Options.Validate() : Options(parse, log, rank.Parallel.Size).Validate();
            var hub = CliHub.Lazy(log);
            var (dev, type) = CommonOptions.ParseCompute(options.Runtime.Device, options.Model.DType ?? options.Autoencoder.DType);
            var tuned = OpenLens(parse, options, resuming, hub, dev);
            if (tuned is not null && !resuming) options = options with { Autoencoder = options.Autoencoder with { TunedLens = tuned.Reference } };
            using var model = ModelSession.Open(options.Model.Name, options.Model.Revision, LayerSelection.Format(options.Model.Layers) ?? parse.GetValue(layers),
                dev, type, options.Model.SkipSpecialTokens, hub, tuned is null ? null : TunedLensHook.For(tuned, options.Model.Name, options.Autoencoder.ReferenceQuirks),
                allowNonFiniteWeights: options.Model.AllowNonFiniteWeights);
            var run = resuming ? Run.Open(runDir) : rank.Create(runDir, RunTrainer.Resolve(options, model, log));
            bool resumeState = resuming && run.HasState;
            if (resuming && !resumeState) log.Notice($"--resume: {runDir} has no checkpoint yet; starting the run from its beginning");
            var outcome = new RunTrainer(run, model, hub, log, rank.Parallel) { CheckReplicas = parse.GetValue(checkReplicas) }.Train(resumeState);
            if (outcome.Eval is not null)
            {
                RunFigures.Draw(run.Folder);
                RunReport.Write(run.Folder, run.PathOf(Run.ReportFile));
            }
            log.Out.WriteLine($"wrote {runDir}: checkpoint (config.json, model.safetensors), run.json, metrics.jsonl"
                + (outcome.Eval is not null ? ", eval.json, summary.md, dists (+ heatmap), variances.json, examples.db, report.html" : ""));
            if (outcome.Eval is not null) log.Out.WriteLine($"explore it in the browser: mlsae serve --sae {runDir}");
            return 0;
        })));
        return command;

        // The lens a new run is given, or the one a resumed run recorded (which it keeps: its SAE lives in that lens's space).
        Mlsae.Lens.TunedLens? OpenLens(ParseResult parse, TrainOptions options, bool resuming, Func<HubClient> hub, TorchSharp.torch.Device dev)
        {
            var given = parse.GetValue(lens.TunedLens);
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

        // A new run's options: the flags given, and for the embedded model its own defaults for every flag left out; the ranks that start it.
        TrainOptions Options(ParseResult parse, CliConsole console, int worldSize)
        {
            int auxkValue = parse.GetValue(auxk);
            if (auxkValue < 0) throw new MlsaeException($"--auxk must not be negative, got {auxkValue}");
            var modelName = EmbeddedDefaults.Model(parse.GetValue(model), console);
            var dataName = EmbeddedDefaults.Data(parse.GetValue(data.Data), console);
            var tuned = new EmbeddedRunChoice(parse, modelName == EmbeddedModel.Name);
            var d = EmbeddedModel.RunDefaults;
            var options = new TrainOptions
            {
                Model = new ModelOptions
                {
                    Name = modelName, Revision = parse.GetValue(revision)!, SkipSpecialTokens = !parse.GetValue(noSkip), DType = parse.GetValue(modelDType),
                    AllowNonFiniteWeights = parse.GetValue(allowNonFinite),
                },
                Data = new TrainDataOptions
                {
                    Source = dataName, Split = parse.GetValue(data.Split)!, Revision = parse.GetValue(data.Revision)!, TextField = parse.GetValue(data.TextField)!,
                    SkipBadLines = parse.GetValue(data.SkipBadLines), MaxDocumentBytes = data.Documents(parse).MaxDocumentBytes, Shard = data.ParseShard(parse) is { Count: > 1 } shard ? shard.ToString() : null,
                    ValData = dataName == DataSource.Embedded ? tuned.Pick(valData, d.Data.ValData) : parse.GetValue(valData), ValBatches = tuned.Pick(valBatches, d.Data.ValBatches),
                    MaxLength = tuned.Pick(data.MaxLength, d.Data.MaxLength), BatchSize = tuned.Pick(batchSize, d.Data.BatchSize),
                },
                Autoencoder = new AutoencoderOptions
                {
                    ExpansionFactor = tuned.Pick(expansion, d.Autoencoder.ExpansionFactor), K = tuned.Pick(k, d.Autoencoder.K),
                    AuxK = tuned.Pick(auxk, d.Autoencoder.AuxK ?? 0, auxkValue) switch { 0 => null, var a => a }, AuxKCoef = parse.GetValue(auxkCoef),
                    DeadTokensThreshold = tuned.Pick(deadTokens, d.Autoencoder.DeadTokensThreshold), DeadThreshold = parse.GetValue(deadThreshold),
                    Standardize = !parse.GetValue(noStandardize), Seed = parse.GetValue(seed), ReferenceQuirks = parse.GetValue(quirks), DType = parse.GetValue(dtype)!,
                },
                Optimizer = new OptimizerOptions
                {
                    Lr = tuned.Pick(lr, d.Optimizer.Lr), AccumulateGradBatches = tuned.Pick(accumulate, d.Optimizer.AccumulateGradBatches),
                    MaxTokens = tuned.Pick(maxTokens, d.Optimizer.MaxTokens),
                },
                Runtime = new RuntimeOptions
                {
                    Device = parse.GetValue(device)!, LogEvery = tuned.Pick(logEvery, d.Runtime.LogEvery), ValEvery = tuned.Pick(valEvery, d.Runtime.ValEvery),
                    CheckpointEvery = tuned.Pick(checkpointEvery, d.Runtime.CheckpointEvery), WorldSize = worldSize,
                },
            };
            if (tuned.Replaced.Count > 0) console.Notice($"embedded run defaults: {string.Join(", ", tuned.Replaced)}");
            return options;
        }
    }
}

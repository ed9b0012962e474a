using System.CommandLine;
using Mlsae.Data;
using Mlsae.Embedded;
using Mlsae.IO;
using Mlsae.Lens.Training;
using Mlsae.Models;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae train-lens</c>: train a tuned lens for a model and save it in the tuned-lens package's format.</summary>
public static class TrainLensCommand
{
    /// <summary>The embedded model's own defaults for the flags left out: 1,024 tokens per step, 60 steps
    /// (61k tokens: minutes on 2 shared cores; the package's 250 steps of 2^18 tokens would take hours here).</summary>
    static readonly LensTrainOptions EmbeddedDefaultOptions = new()
    {
        Model = EmbeddedModel.Name, Data = DataSource.Embedded, ValData = DataSource.EmbeddedHeldOut, ValBatches = 4,
        MaxLength = 128, BatchSize = 8, AccumulateGradBatches = 1, NumSteps = 60,
    };

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var d = new LensTrainOptions { Model = "", Data = "" };
        var e = EmbeddedDefaultOptions;
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var data = new DataOptions(d.MaxLength);
        var valData = new Option<string?>("--val-data") { Description = "Held-out data for the identity-vs-lens KL (default: the first --val-batches batches of --data, skipped by training)" };
        var valBatches = new Option<int>("--val-batches") { Description = "Held-out batches", DefaultValueFactory = _ => d.ValBatches };
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per forward pass", DefaultValueFactory = _ => d.BatchSize };
        var accumulate = new Option<int>("--accumulate-grad-batches") { Description = "Batches per optimizer step (the package: 2^18 tokens per step)", DefaultValueFactory = _ => d.AccumulateGradBatches };
        var steps = new Option<int>("--num-steps") { Description = "Optimizer steps", DefaultValueFactory = _ => d.NumSteps };
        var lrScale = new Option<double>("--lr-scale") { Description = "Scale of SGD's default learning rate 1 (applied as lr_scale·(1 − momentum))", DefaultValueFactory = _ => d.LrScale };
        var momentum = new Option<double>("--momentum") { Description = "Nesterov momentum", DefaultValueFactory = _ => d.Momentum };
        var decay = new Option<double>("--weight-decay") { Description = "Weight decay (toward the identity)", DefaultValueFactory = _ => d.WeightDecay };
        var warmup = new Option<int>("--warmup-steps") { Description = "Linear warm-up steps", DefaultValueFactory = _ => d.WarmupSteps };
        var clip = new Option<double>("--grad-clip") { Description = "Clip gradients to this global norm", DefaultValueFactory = _ => d.GradClip };
        var seed = new Option<long>("--seed") { Description = "Seed of the batch order within each shuffle window", DefaultValueFactory = _ => d.Seed };
        var shuffle = new Option<int>("--shuffle-batches") { Description = "Batches per shuffle window (1: the stream's order)", DefaultValueFactory = _ => d.ShuffleBatches };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Optimizer steps between resumable checkpoints", DefaultValueFactory = _ => d.CheckpointEvery };
        var device = CommonOptions.Device();
        var output = new Option<string>("--out") { Description = "Lens folder (config.json, params.pt, params.safetensors, logs)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the interrupted run in --out (its train_lens_args.json gives every other argument)" };
        var command = new Command("train-lens", "Train a tuned lens (translators per layer, KL to the final layer) and save it in the tuned-lens package's format")
        {
            model, revision, valData, valBatches, batchSize, accumulate, steps, lrScale, momentum, decay, warmup, clip, seed, shuffle, checkpointEvery, device, output, resume,
        };
        data.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(outDir)) throw new MlsaeException("--out: an empty folder name");
            var argsPath = Path.Combine(outDir, LensTrainer.ArgsFile);
            bool resuming = parse.GetValue(resume);
            if (!resuming && File.Exists(argsPath)) throw new MlsaeException($"--out: {outDir} already holds a train-lens run; pass --resume or choose another folder");
            var options = (resuming ? LensTrainOptions.Load(argsPath) : Options(parse)).Validate();
            if (!resuming) AtomicFile.WriteText(argsPath, options.ToJson());
            var hub = CliHub.Lazy(console);
            var (dev, type) = CommonOptions.ParseCompute(options.Device, "float32");
            using var session = ModelSession.Open(options.Model, options.Revision, null, dev, type, skipSpecialTokens: false, hub);
            var documents = new DocumentOptions(options.TextField, options.SkipBadLines, options.MaxDocumentBytes);
            BatchSource Source(string name) => new(new DataSource(name, options.Split, options.DataRevision), documents, options.MaxLength, options.BatchSize,
                Shard.Parse(options.Shard), () => session.Tokenizer, hub);
            var trainSource = Source(options.Data);
            var heldOut = (options.ValData is null ? trainSource : Source(options.ValData)).Batches()
                .Where(b => b.Size == options.BatchSize).Take(options.ValBatches).ToList();
            DataPosition? start = options.ValData is null && heldOut.Count > 0 ? heldOut[^1].Next : null;
            bool resumeState = resuming && File.Exists(Path.Combine(outDir, "state", "train_lens_state.safetensors"));
            if (resuming && !resumeState) console.Notice($"--resume: {outDir} has no checkpoint yet; starting the run from its beginning");
            var trainer = new LensTrainer(options, session.Model, outDir, console);
            bool hubModel = EmbeddedModel.Folder(options.Model) is null && !Directory.Exists(options.Model);
            var result = trainer.Fit(trainSource.Batches, start, heldOut, resumeState, hubModel ? options.Revision : null);
            console.Out.WriteLine($"layer  kl_identity  kl_lens   (held-out, {result.HeldOutTokens:N0} tokens; layer i = hidden_states[i], 0 the embeddings)");
            for (int i = 0; i < result.KlLens.Length; i++) console.Out.WriteLine($"{i,5}  {result.KlIdentity[i],11:F4}  {result.KlLens[i],7:F4}");
            console.Out.WriteLine($"mean   {result.KlIdentityMean,11:F4}  {result.KlLensMean,7:F4}");
            console.Out.WriteLine($"wrote {outDir}: config.json, params.pt, params.safetensors, {LensTrainer.ResultFile}, {LensTrainer.LogFile} ({result.Steps} steps, {result.Tokens:N0} tokens)");
            return 0;
        }));
        return command;

        // A new run's options: the flags given, and for the embedded model its own defaults for the sizes left out.
        LensTrainOptions Options(ParseResult parse)
        {
            var modelName = EmbeddedDefaults.Model(parse.GetValue(model), console);
            var dataName = EmbeddedDefaults.Data(parse.GetValue(data.Data), console);
            bool embedded = modelName == EmbeddedModel.Name && dataName == DataSource.Embedded;
            var replaced = new List<string>();
            T Pick<T>(Option<T> option, T embeddedValue, string flag)
            {
                if (!embedded || !EmbeddedDefaults.Implicit(parse, option)) return parse.GetValue(option)!;
                replaced.Add($"{flag} {embeddedValue}");
                return embeddedValue;
            }
            var options = new LensTrainOptions
            {
                Model = modelName, Revision = parse.GetValue(revision)!, Data = dataName, Split = parse.GetValue(data.Split)!,
                DataRevision = parse.GetValue(data.Revision)!, TextField = parse.GetValue(data.TextField)!, SkipBadLines = parse.GetValue(data.SkipBadLines),
                MaxDocumentBytes = data.Documents(parse).MaxDocumentBytes, Shard = data.ParseShard(parse) is { Count: > 1 } shard ? shard.ToString() : null,
                ValData = Pick(valData, e.ValData, "--val-data"), ValBatches = Pick(valBatches, e.ValBatches, "--val-batches"),
                MaxLength = Pick(data.MaxLength, e.MaxLength, "--max-length"), BatchSize = Pick(batchSize, e.BatchSize, "--batch-size"),
                AccumulateGradBatches = Pick(accumulate, e.AccumulateGradBatches, "--accumulate-grad-batches"),
                NumSteps = Pick(steps, e.NumSteps, "--num-steps"), LrScale = parse.GetValue(lrScale), Momentum = parse.GetValue(momentum), WeightDecay = parse.GetValue(decay),
                WarmupSteps = parse.GetValue(warmup), GradClip = parse.GetValue(clip), Seed = parse.GetValue(seed), ShuffleBatches = parse.GetValue(shuffle),
                CheckpointEvery = parse.GetValue(checkpointEvery), Device = parse.GetValue(device)!,
            };
            if (replaced.Count > 0) console.Notice($"embedded train-lens defaults: {string.Join(", ", replaced)}");
            return options;
        }
    }
}

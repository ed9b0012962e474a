using System.CommandLine;
using Mlsae.Autoencoder;
using Mlsae.Data;
using Mlsae.Evaluation;
using Mlsae.Hub;
using Mlsae.IO;
using Mlsae.Models;
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
        var noSkip = CommonOptions.NoSkipSpecialTokens();
        var command = new Command("train", "Train a multi-layer SAE on a GPT-NeoX's residual stream")
        {
            model, revision, layers, valData, valBatches, output, resume, expansion, k, auxk, auxkCoef, deadTokens, deadThreshold, lr,
            batchSize, accumulate, maxTokens, seed, logEvery, valEvery, checkpointEvery, noStandardize, quirks, device, dtype, noSkip,
        };
        data.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var runDir = parse.GetValue(output)!;
            bool resuming = parse.GetValue(resume);
            TrainOptions options;
            if (resuming)
            {
                if (!RunFolder.IsRun(runDir)) throw new MlsaeException($"--resume: {runDir} holds no run.json");
                options = RunFolder.Options(runDir).Validate();
            }
            else
            {
                if (RunFolder.IsRun(runDir)) throw new MlsaeException($"--out: {runDir} already holds a run; pass --resume to continue it or choose another folder");
                int auxkValue = parse.GetValue(auxk);
                if (auxkValue < 0) throw new MlsaeException($"--auxk must not be negative, got {auxkValue}");
                var modelName = EmbeddedDefaults.Model(parse.GetValue(model), console);
                options = new TrainOptions
                {
                    Model = modelName, Revision = parse.GetValue(revision)!, Data = EmbeddedDefaults.Data(parse.GetValue(data.Data), console),
                    Split = parse.GetValue(data.Split)!, DataRevision = parse.GetValue(data.Revision)!, TextField = parse.GetValue(data.TextField)!,
                    SkipBadLines = parse.GetValue(data.SkipBadLines), Shard = data.ParseShard(parse) is { Count: > 1 } shard ? $"{shard.Index}/{shard.Count}" : null, ValData = parse.GetValue(valData), ValBatches = parse.GetValue(valBatches),
                    MaxLength = data.ParseMaxLength(parse), BatchSize = parse.GetValue(batchSize), AccumulateGradBatches = parse.GetValue(accumulate),
                    MaxTokens = parse.GetValue(maxTokens), ExpansionFactor = parse.GetValue(expansion), K = parse.GetValue(k),
                    AuxK = auxkValue == 0 ? null : auxkValue, AuxKCoef = parse.GetValue(auxkCoef), DeadTokensThreshold = parse.GetValue(deadTokens),
                    DeadThreshold = parse.GetValue(deadThreshold), Lr = parse.GetValue(lr), Standardize = !parse.GetValue(noStandardize),
                    SkipSpecialTokens = !parse.GetValue(noSkip), Seed = parse.GetValue(seed), Device = parse.GetValue(device)!, DType = parse.GetValue(dtype)!,
                    LogEvery = parse.GetValue(logEvery), ValEvery = parse.GetValue(valEvery), CheckpointEvery = parse.GetValue(checkpointEvery),
                    ReferenceQuirks = parse.GetValue(quirks),
                };
                if (modelName == EmbeddedDefaults.Name)
                    options = EmbeddedRun(options, parse, [(data.MaxLength, "max_length"), (batchSize, "batch_size"), (accumulate, "accumulate_grad_batches"),
                        (maxTokens, "max_tokens"), (expansion, "expansion_factor"), (k, "k"), (auxk, "auxk"), (lr, "lr"), (deadTokens, "dead_tokens_threshold"),
                        (valEvery, "val_every"), (valBatches, "val_batches"), (valData, "val_data"), (checkpointEvery, "checkpoint_every"), (logEvery, "log_every")], console);
                options = options.Validate();
            }
            using var context = ModelContext.Open(options.Model, options.Revision, options.Layers is null ? parse.GetValue(layers) : string.Join(",", options.Layers),
                options.Device, options.DType, options.SkipSpecialTokens, console);
            options = options with { Layers = context.Layers };
            if (File.Exists(Path.Combine(context.Folder, "tokenizer.json"))
                && SequenceStream.EffectiveMaxLength(context.Tokenizer(), options.MaxLength) is int effective && effective < options.MaxLength)
            {
                console.Error.WriteLine($"--max-length: {options.MaxLength} exceeds the tokenizer's model_max_length; using {effective}, as the reference does");
                options = options with { MaxLength = effective };
            }
            return Run(options, context, runDir, resuming, console);
        }));
        return command;
    }

    /// <summary>
    /// The embedded model's own defaults, for every option the user left out: sized so that the
    /// README's first command trains a good MLSAE over all layers in a few minutes on 2 cores (the
    /// reference's 131k tokens per optimizer step would allow only a handful of steps).
    /// </summary>
    internal static readonly TrainOptions EmbeddedRunDefaults = new()
    {
        Model = EmbeddedDefaults.Name, Data = DataSource.Embedded, ValData = DataSource.EmbeddedHeldOut, MaxLength = 128, BatchSize = 8, AccumulateGradBatches = 1, MaxTokens = 1_500_000,
        ExpansionFactor = 8, K = 16, AuxK = 64, Lr = 1e-3, DeadTokensThreshold = 200_000, ValEvery = 250, ValBatches = 8, CheckpointEvery = 100, LogEvery = 10,
    };

    static TrainOptions EmbeddedRun(TrainOptions options, ParseResult parse, (Option Option, string Json)[] tuned, CliConsole console)
    {
        var given = System.Text.Json.Nodes.JsonNode.Parse(options.ToJson())!.AsObject();
        var defaults = System.Text.Json.Nodes.JsonNode.Parse(EmbeddedRunDefaults.ToJson())!.AsObject();
        var replaced = new List<string>();
        foreach (var (option, json) in tuned)
            if (EmbeddedDefaults.Implicit(parse, option) && (json != "val_data" || options.Data == DataSource.Embedded))
            {
                given[json] = defaults[json]!.DeepClone();
                replaced.Add($"{option.Name} {defaults[json]}");
            }
        console.Error.WriteLine($"embedded run defaults: {string.Join(", ", replaced)}");
        return System.Text.Json.JsonSerializer.Deserialize<TrainOptions>(given.ToJsonString())!;
    }

    static int Run(TrainOptions options, ModelContext context, string runDir, bool resuming, CliConsole console)
    {
        var (training, start, validation) = Streams(options, context, console);
        var report = training.Report;
        var config = new MlsaeConfig
        {
            NInputs = context.Model.Config.HiddenSize, NLatents = context.Model.Config.HiddenSize * options.ExpansionFactor, K = options.K,
            AuxK = options.AuxK, DeadStepsThreshold = options.DeadStepsThreshold, DeadThreshold = options.DeadThreshold, Standardize = options.Standardize,
        }.Validate("--expansion-factor/-k/--auxk");
        using var sae = MlsaeAutoencoder.Create(config, CoderSettings.Of(options), options.Seed, context.Model.Device);
        Directory.CreateDirectory(runDir);
        if (!resuming) AtomicFile.WriteText(Path.Combine(runDir, RunFolder.RunFile), options.ToJson());
        var trainer = new MlsaeTrainer(options, context.Stream, sae, runDir);
        console.Error.WriteLine($"train: {context.Name}, layers [{string.Join(", ", context.Layers)}], {config.NLatents} latents (x{options.ExpansionFactor}), k {config.K}, "
            + $"{options.TotalSteps} steps of {options.TokensPerBatch * options.AccumulateGradBatches:N0} tokens{(resuming ? ", resuming" : "")}");
        TrainProgress? last = null;
        var final = console.Progress("train", options.TotalBatches * options.TokensPerBatch, "tokens",
            done => trainer.Fit(training.Batches, start, validation, resuming, p => { last = p; done(p.Tokens); }),
            () => last is null ? "" : $"step {last.Step}/{last.TotalSteps} loss {EvalSummary.Format(last.Loss)} fvu {EvalSummary.Format(last.Fvu)} dead {EvalSummary.Format(last.DeadFraction)}");
        if (final.Batches < options.TotalBatches)
            console.Error.WriteLine($"note: the data ran out after {final.Tokens:N0} tokens ({report.Summary()})");
        if (validation.Count > 0)
        {
            var result = trainer.Validate(validation);
            EvalCommand.Write(result, Path.Combine(runDir, "eval.json"), console);
            AtomicFile.WriteText(Path.Combine(runDir, "summary.md"), EvalSummary.Markdown($"MLSAE on {options.Model}", result,
            [
                $"layers [{string.Join(", ", context.Layers)}], {config.NLatents} latents (expansion x{options.ExpansionFactor}), k {config.K}, auxk {config.AuxK?.ToString() ?? "off"}",
                $"{final.Step} optimizer steps, {final.Tokens:N0} training tokens, lr {options.Lr}, seed {options.Seed}{(options.ReferenceQuirks ? ", reference quirks" : "")}",
                $"data {options.Data}, max_length {options.MaxLength}; validation {(options.ValData ?? "held out from the start of the training stream")}",
            ]));
        }
        if (validation.Count > 0) Analyse(options, context, sae, validation, runDir, console);
        console.Out.WriteLine($"wrote {runDir}: checkpoint (config.json, model.safetensors), run.json, metrics.jsonl"
            + (validation.Count > 0 ? ", eval.json, summary.md, dists (+ heatmap), variances.json, report.html" : ""));
        return 0;
    }

    /// <summary>The latent distributions over layers and the variance ratios on the validation
    /// batches, their figures, and the HTML report: what the README's first command shows.</summary>
    static void Analyse(TrainOptions options, ModelContext context, MlsaeAutoencoder sae, IReadOnlyList<TokenBatch> validation, string runDir, CliConsole console)
    {
        var dists = new Analysis.LayerDists(context.Layers.Length, sae.Config.NLatents);
        var variances = new Analysis.LayerVariances(context.Layers.Length, sae.Config.NLatents);
        foreach (var batch in validation)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            using var _ = TorchSharp.torch.no_grad();
            using var output = sae.Forward(context.Stream.Forward(context.Stream.Tokens(batch.Sequences)), training: false);
            dists.Add(output.TopKRaw, output.TopK.Indices);
            variances.Add(output.TopKRaw, output.TopK.Indices);
        }
        var meta = new Dictionary<string, string>
        {
            ["model"] = options.Model, ["sae"] = runDir, ["layers"] = string.Join(",", context.Layers), ["data"] = options.ValData ?? options.Data + " (held out)",
            ["max_length"] = options.MaxLength.ToString(), ["batch_size"] = options.BatchSize.ToString(), ["shard"] = "0/1",
        };
        DistsCommand.Write(dists, meta, Path.Combine(runDir, "dists.safetensors"), figures: true, console);
        var json = new System.Text.Json.Nodes.JsonObject();
        foreach (var (k, v) in variances.Result()) json[k] = JsonNumbers.Of(v);
        json["batches"] = variances.Batches;
        json["batch_size"] = options.BatchSize;
        json["max_length"] = options.MaxLength;
        AtomicFile.WriteText(Path.Combine(runDir, "variances.json"), json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        if (File.Exists(Path.Combine(context.Folder, "tokenizer.json")))
        {
            var tokenizer = context.Tokenizer();
            // The single-prompt view beside the aggregate one: a fixed sentence for the embedded
            // model (agreement across a clause, then arithmetic), else the start of the first validation sequence.
            var prompt = options.Model == EmbeddedDefaults.Name
                ? "The old keys that the baker found near the river are red. sum: 23 + 48 = 71."
                : tokenizer.Decode(validation[0].Sequences[0].Take(64).Select(i => (int)i), skipSpecialTokens: true);
            if (prompt.Trim().Length > 0) PromptCommand.Write(sae, context, tokenizer, prompt, runDir, Path.Combine(runDir, "prompt.json"));
        }
        ReportCommand.Write(runDir, Path.Combine(runDir, "report.html"));
    }

    /// <summary>The training batches, where training starts, and the validation batches (held out
    /// from the start of the training stream unless --val-data is given).</summary>
    static (BatchSource Training, DataPosition? Start, IReadOnlyList<TokenBatch> Validation) Streams(TrainOptions options, ModelContext context, CliConsole console)
    {
        HubClient? hub = null;
        HubClient Hub() => hub ??= ActivationsCommand.NewHubClient(console);
        var documents = new DocumentOptions(options.TextField, options.SkipBadLines);
        var tokenizer = new Lazy<Tokenization.Tokenizer>(context.Tokenizer);
        BatchSource Open(string data, string split, Shard shard) => new(new DataSource(data, split, options.DataRevision), documents,
            options.MaxLength, options.BatchSize, shard, () => tokenizer.Value, Hub);
        var training = Open(options.Data, options.Split, Shard.Parse(options.Shard));
        if (options.ValData is not null)
            return (training, null, Open(options.ValData, options.Split == "train" ? "validation" : options.Split, Shard.All).Batches().Take(options.ValBatches).ToList());
        var validation = training.Batches().Take(options.ValBatches).ToList();
        return (training, validation.Count > 0 ? validation[^1].Next : null, validation);
    }
}

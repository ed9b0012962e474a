using System.CommandLine;
using Mlsae.Data;
using Mlsae.Evaluation;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Tokenization;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae pretrain</c>: train a GPT-NeoX language model from scratch and save it in HF (Pythia) format.</summary>
public static class PretrainCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var defaults = new PretrainOptions { Tokenizer = "" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer folder (from train-tokenizer)" };
        var data = new Option<string>("--data") { Description = "Training text (default: the embedded synthetic corpus)", DefaultValueFactory = _ => defaults.Data };
        var valData = new Option<string>("--val-data") { Description = "Held-out text", DefaultValueFactory = _ => defaults.ValData };
        var layers = new Option<int>("--layers") { Description = "Transformer blocks", DefaultValueFactory = _ => defaults.Layers };
        var dModel = new Option<int>("--d-model") { Description = "Hidden size", DefaultValueFactory = _ => defaults.DModel };
        var heads = new Option<int>("--heads") { Description = "Attention heads", DefaultValueFactory = _ => defaults.Heads };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per sequence", DefaultValueFactory = _ => defaults.MaxLength };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per step", DefaultValueFactory = _ => defaults.BatchSize };
        var maxTokens = new Option<long>("--max-tokens") { Description = "Tokens to train on", DefaultValueFactory = _ => defaults.MaxTokens };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate", DefaultValueFactory = _ => defaults.Lr };
        var warmup = new Option<int>("--warmup-steps") { Description = "Linear warm-up steps", DefaultValueFactory = _ => defaults.WarmupSteps };
        var decay = new Option<double>("--weight-decay") { Description = "AdamW weight decay on matrices", DefaultValueFactory = _ => defaults.WeightDecay };
        var clip = new Option<double>("--grad-clip") { Description = "Clip gradients to this global norm", DefaultValueFactory = _ => defaults.GradClip };
        var seed = new Option<long>("--seed") { Description = "Initialization seed", DefaultValueFactory = _ => 0 };
        var evalEvery = new Option<int>("--eval-every") { Description = "Steps between held-out evaluations", DefaultValueFactory = _ => defaults.EvalEvery };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between resumable checkpoints", DefaultValueFactory = _ => defaults.CheckpointEvery };
        var storage = new Option<string>("--storage-dtype") { Description = "Dtype of the saved weights", DefaultValueFactory = _ => defaults.StorageDtype };
        var output = new Option<string>("--out") { Description = "Output folder (HF model + tokenizer + log)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the interrupted run in --out" };
        var command = new Command("pretrain", "Train a GPT-NeoX language model from scratch (AdamW, warm-up + cosine, clipping) and save it in HF format")
        {
            tokenizer, data, valData, layers, dModel, heads, maxLength, batch, maxTokens, lr, warmup, decay, clip, seed, evalEvery, checkpointEvery, storage, output, resume,
        };
        command.SetAction(parse => console.Guard(() =>
        {
            var outDir = parse.GetValue(output)!;
            var optionsPath = Path.Combine(outDir, "pretrain.json");
            bool resuming = parse.GetValue(resume);
            var options = resuming ? PretrainOptions.Load(optionsPath).Validate() : new PretrainOptions
            {
                Tokenizer = parse.GetValue(tokenizer) ?? throw new MlsaeException("--tokenizer is required"),
                Data = parse.GetValue(data)!, ValData = parse.GetValue(valData)!, Layers = parse.GetValue(layers), DModel = parse.GetValue(dModel),
                Heads = parse.GetValue(heads), MaxLength = parse.GetValue(maxLength), BatchSize = parse.GetValue(batch), MaxTokens = parse.GetValue(maxTokens),
                Lr = parse.GetValue(lr), WarmupSteps = parse.GetValue(warmup), WeightDecay = parse.GetValue(decay), GradClip = parse.GetValue(clip),
                Seed = parse.GetValue(seed), EvalEvery = parse.GetValue(evalEvery), CheckpointEvery = parse.GetValue(checkpointEvery),
                StorageDtype = parse.GetValue(storage)!,
            }.Validate();
            if (!resuming && File.Exists(optionsPath)) throw new MlsaeException($"--out: {outDir} already holds a pretraining run; pass --resume or choose another folder");
            var tok = Tokenizer.Load(options.Tokenizer);
            int eos = tok.TokenToId("<|endoftext|>") ?? throw new MlsaeException($"{options.Tokenizer}: no <|endoftext|> token");
            var config = new GptNeoXConfig
            {
                HiddenSize = options.DModel, NumAttentionHeads = options.Heads, NumHiddenLayers = options.Layers, IntermediateSize = 4 * options.DModel,
                VocabSize = RoundUp(tok.Count, 128), MaxPositionEmbeddings = Math.Max(options.MaxLength, 2048), RotaryPct = options.RotaryPct,
                UseParallelResidual = true, TorchDtype = options.StorageDtype, BosTokenId = eos, EosTokenId = eos,
            };
            config.Validate("--layers/--d-model/--heads");
            Directory.CreateDirectory(outDir);
            if (!resuming) AtomicFile.WriteText(optionsPath, options.ToJson());
            using var model = GptNeoXInit.Create(config, options.Seed);
            var hub = CliHub.Lazy(console);
            BatchSource Source(string source) => new(new DataSource(source), new DocumentOptions(), options.MaxLength, options.BatchSize, Shard.All, () => tok, hub);
            var heldOut = Source(options.ValData).Batches().Take(Math.Max(1, options.EvalBatches)).ToList();
            var trainer = new Pretrainer(options, model, outDir);
            Pretrainer.Progress? last = null;
            double? lastHeldOut = null;
            double final = console.Progress("pretrain", options.TotalSteps * options.BatchSize * options.MaxLength, "tokens",
                done => trainer.Fit(Source(options.Data).Batches, heldOut, resuming, p => { last = p; lastHeldOut = p.HeldOutLoss ?? lastHeldOut; done(p.Tokens); }),
                () => last is null ? "" : $"step {last.Step}/{last.TotalSteps} loss {EvalSummary.Format(last.Loss)} held-out {EvalSummary.Format(lastHeldOut ?? double.NaN)} lr {last.LearningRate:G3}");
            var modelDir = Path.Combine(outDir, "model");
            GptNeoXWriter.Save(model, modelDir);
            foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            {
                var from = Path.Combine(Directory.Exists(options.Tokenizer) ? options.Tokenizer : Path.GetDirectoryName(options.Tokenizer)!, f);
                if (File.Exists(from)) File.Copy(from, Path.Combine(modelDir, f), overwrite: true);
            }
            console.Out.WriteLine($"wrote {modelDir}: GPT-NeoX {options.Layers} layers, d_model {options.DModel}, vocab {config.VocabSize}; held-out loss {final:F4}");
            return 0;
        }));
        return command;
    }

    static int RoundUp(int n, int multiple) => (n + multiple - 1) / multiple * multiple;
}

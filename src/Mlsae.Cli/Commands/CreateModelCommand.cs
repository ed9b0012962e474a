using System.CommandLine;
using Mlsae.Models;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae create-model</c>: write a randomly initialized GPT-NeoX in HF format, like the
/// tiny random models HF uses in tests, for pipelines, tests and demos with nothing downloaded.</summary>
public static class CreateModelCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var output = new Option<string>("--out") { Description = "Output folder (config.json + model.safetensors)", Required = true };
        var layers = new Option<int>("--layers") { Description = "Number of blocks", DefaultValueFactory = _ => 3 };
        var dModel = new Option<int>("--d-model") { Description = "hidden_size", DefaultValueFactory = _ => 64 };
        var heads = new Option<int>("--heads") { Description = "num_attention_heads", DefaultValueFactory = _ => 4 };
        var vocab = new Option<int>("--vocab") { Description = "vocab_size", DefaultValueFactory = _ => 512 };
        var intermediate = new Option<int?>("--intermediate-size") { Description = "MLP width (default 4 × d-model)" };
        var maxPositions = new Option<int>("--max-position-embeddings") { DefaultValueFactory = _ => 2048 };
        var rotaryPct = new Option<double>("--rotary-pct") { Description = "Fraction of head dims with rotary (Pythia: 0.25)", DefaultValueFactory = _ => 0.25 };
        var rotaryBase = new Option<double>("--rotary-emb-base") { DefaultValueFactory = _ => 10000 };
        var eps = new Option<double>("--layer-norm-eps") { DefaultValueFactory = _ => 1e-5 };
        var sequential = new Option<bool>("--sequential-residual") { Description = "Sequential instead of Pythia's parallel residual" };
        var storage = new Option<string>("--storage-dtype") { Description = "Stored weight dtype: float32, float16 or bfloat16", DefaultValueFactory = _ => "float32" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var command = new Command("create-model", "Write a randomly initialized GPT-NeoX in HF format (config.json + model.safetensors)")
        {
            output, layers, dModel, heads, vocab, intermediate, maxPositions, rotaryPct, rotaryBase, eps, sequential, storage, seed,
        };
        command.SetAction(parse => console.Guard(() =>
        {
            var storeAs = parse.GetValue(storage)!;
            if (storeAs is not ("float32" or "float16" or "bfloat16"))
                throw new MlsaeException($"--storage-dtype: '{storeAs}' is not one of float32, float16, bfloat16");
            var config = new GptNeoXConfig
            {
                NumHiddenLayers = parse.GetValue(layers),
                HiddenSize = parse.GetValue(dModel),
                NumAttentionHeads = parse.GetValue(heads),
                VocabSize = parse.GetValue(vocab),
                IntermediateSize = parse.GetValue(intermediate) ?? 4 * parse.GetValue(dModel),
                MaxPositionEmbeddings = parse.GetValue(maxPositions),
                RotaryPct = parse.GetValue(rotaryPct),
                RotaryEmbBase = parse.GetValue(rotaryBase),
                LayerNormEps = parse.GetValue(eps),
                UseParallelResidual = !parse.GetValue(sequential),
                TorchDtype = storeAs,
            };
            config.Validate("create-model");
            using var model = GptNeoXInit.Create(config, parse.GetValue(seed));
            var folder = parse.GetValue(output)!;
            GptNeoXWriter.Save(model, folder);
            long parameters = model.parameters().Sum(p => p.numel());
            console.Out.WriteLine($"wrote {folder}: GPT-NeoX with {config.NumHiddenLayers} layers, d_model {config.HiddenSize}, {parameters:N0} parameters ({storeAs})");
            return 0;
        }));
        return command;
    }
}

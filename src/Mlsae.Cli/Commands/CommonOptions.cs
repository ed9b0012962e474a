using System.CommandLine;
using Mlsae.Tensors;
using TorchSharp;

namespace Mlsae.Cli.Commands;

/// <summary>Options shared by every command that runs a model, with the same names and defaults everywhere.</summary>
public static class CommonOptions
{
    /// <summary><c>--model</c>: a local HF model folder or a hub id.</summary>
    public static Option<string?> Model() => new("--model")
    {
        Description = "Local HF model folder (config.json + weights) or hub id such as EleutherAI/pythia-70m-deduped (default: the embedded model)",
    };

    /// <summary><c>--revision</c> of a hub model.</summary>
    public static Option<string> Revision() => new("--revision")
    {
        Description = "Hub revision (branch, tag or commit) when --model is a hub id",
        DefaultValueFactory = _ => "main",
    };

    /// <summary><c>--layers</c>: comma-separated model layer indices.</summary>
    public static Option<string?> Layers() => new("--layers")
    {
        Description = "Model layer indices, comma-separated (e.g. 0,2,5); default all layers",
    };

    /// <summary><c>--layer</c> of a command that reads one decoder: which layer's decoder of a per-layer family or crosscoder.</summary>
    public static Option<int?> DecoderLayer() => new("--layer")
    {
        Description = "For a per-layer family or a crosscoder (one decoder per layer): the model layer whose decoder to read; an MLSAE takes none",
    };

    /// <summary><c>--device</c>.</summary>
    public static Option<string> Device() => new("--device")
    {
        Description = "cpu, cuda or cuda:N",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary><c>--dtype</c> of computation.</summary>
    public static Option<string> DType() => new("--dtype")
    {
        Description = "Compute dtype: float32, bfloat16 or float16 (weights are upcast exactly to float32 first)",
        DefaultValueFactory = _ => "float32",
    };

    /// <summary><c>--no-skip-special-tokens</c>.</summary>
    public static Option<bool> NoSkipSpecialTokens() => new("--no-skip-special-tokens")
    {
        Description = "Keep the activations at bos/eos/pad positions instead of zeroing them (the reference zeroes them)",
    };

    /// <summary><c>--allow-non-finite-weights</c>.</summary>
    public static Option<bool> AllowNonFiniteWeights() => new("--allow-non-finite-weights")
    {
        Description = "Load a model whose weights hold NaN or infinite values instead of failing (its activations will not be finite)",
    };

    /// <summary>Parses <c>--device</c> and <c>--dtype</c>.</summary>
    public static (torch.Device Device, torch.ScalarType DType) ParseCompute(string device, string dtype) =>
        (DTypes.ParseDevice(device), DTypes.Parse(dtype));
}

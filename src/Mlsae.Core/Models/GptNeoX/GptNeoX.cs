using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>
/// GPT-NeoX causal language model (HF <c>GPTNeoXForCausalLM</c>), this project's
/// <see cref="ILanguageModel"/>: block outputs for chosen layers, and a forward pass that resumes
/// from a layer with replaced activations. Parameter names are HF's checkpoint keys.
/// </summary>
public sealed class GptNeoX : nn.Module, ILanguageModel
{
    [ComponentName(Name = "gpt_neox")] readonly GptNeoXModel trunk;
    [ComponentName(Name = "embed_out")] readonly Linear embedOut;
    SpecialTokens? specialTokens;

    /// <summary>The configuration the model was built from.</summary>
    public GptNeoXConfig Config { get; }

    ILanguageModelConfig ILanguageModel.Config => Config;

    /// <inheritdoc />
    public string? TokenizerFolder { get; }

    /// <summary>Creates a model with freshly initialized (unloaded) weights on the CPU in float32.
    /// <paramref name="folder"/> is the HF folder it is loaded from, if any: its tokenizer files
    /// name the special tokens.</summary>
    public GptNeoX(GptNeoXConfig config, string? folder = null) : base("GPTNeoXForCausalLM")
    {
        config.Validate();
        Config = config;
        TokenizerFolder = folder;
        trunk = new GptNeoXModel(config);
        embedOut = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
        if (config.TieWordEmbeddings) embedOut.weight = trunk.EmbedIn.weight!;
    }

    /// <inheritdoc />
    // Resolved on first use, so a command that does not zero special tokens never reads the tokenizer files.
    public SpecialTokens SpecialTokens => specialTokens ??= SpecialTokens.ForModel(TokenizerFolder, Config);

    /// <summary>The device the parameters live on.</summary>
    public Device Device => embedOut.weight!.device;

    /// <summary>The compute dtype of the parameters.</summary>
    public ScalarType DType => embedOut.weight!.dtype;

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> <c>[B, T]</c> and returns the block outputs of
    /// <paramref name="layers"/> (model indices, any order, default all) as <c>[L, B, T, D]</c>,
    /// and the logits when <paramref name="logits"/> is set. Blocks after the last needed one are
    /// skipped when no logits are asked for.
    /// </summary>
    public LanguageModelOutput Forward(Tensor tokens, IReadOnlyList<int>? layers = null, bool logits = false)
    {
        Shapes.Check(tokens, "tokens", -1, -1);
        layers ??= Enumerable.Range(0, Config.NumHiddenLayers).ToArray();
        foreach (var l in layers)
            if (l < 0 || l >= Config.NumHiddenLayers)
                throw new MlsaeException($"--layers: layer {l} out of range (the model has layers 0..{Config.NumHiddenLayers - 1})");
        using var scope = NewDisposeScope();
        var ids = tokens.to(ScalarType.Int64, Device);
        int last = logits ? Config.NumHiddenLayers - 1 : (layers.Count == 0 ? -1 : layers.Max());
        var (cos, sin) = RotaryEmbedding.Tables(Config, ids.shape[1], Device, DType);
        var x = trunk.EmbedIn.forward(ids);                                       // [B, T, D]
        var outputs = new Tensor[Config.NumHiddenLayers];
        for (int i = 0; i <= last; i++)
        {
            x = trunk.Layers[i].Forward(x, cos, sin);
            outputs[i] = x;
        }
        var hidden = layers.Count == 0
            ? zeros([0, ids.shape[0], ids.shape[1], Config.HiddenSize], DType, Device)
            : stack(layers.Select(l => outputs[l]).ToArray(), 0);                  // [L, B, T, D]
        var logitsTensor = logits ? Unembed(x) : null;
        return new LanguageModelOutput(hidden.MoveToOuterDisposeScope(), logitsTensor?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The reference's <c>forward_at_layer</c>: starts from <paramref name="hidden"/> <c>[B, T, D]</c>
    /// taken as the output of block <paramref name="startLayer"/>, runs blocks startLayer+1.., then
    /// the final LayerNorm and unembedding. Returns logits <c>[B, T, V]</c>.
    /// </summary>
    public Tensor ForwardAtLayer(Tensor hidden, int startLayer)
    {
        Shapes.Check(hidden, "hidden", -1, -1, Config.HiddenSize);
        if (startLayer < 0 || startLayer >= Config.NumHiddenLayers)
            throw new MlsaeException($"start layer {startLayer} out of range (the model has layers 0..{Config.NumHiddenLayers - 1})");
        using var scope = NewDisposeScope();
        var x = hidden.to(DType, Device);
        var (cos, sin) = RotaryEmbedding.Tables(Config, x.shape[1], Device, DType);
        for (int i = startLayer + 1; i < Config.NumHiddenLayers; i++)
            x = trunk.Layers[i].Forward(x, cos, sin);
        return Unembed(x).MoveToOuterDisposeScope();
    }

    Tensor Unembed(Tensor x) => BFloat16Matmul.Linear(embedOut, trunk.FinalLayerNorm.forward(x));

    /// <inheritdoc />
    public Tensor InputEmbeddings() => trunk.EmbedIn.weight!.detach();

    /// <inheritdoc />
    public Tensor OutputEmbeddings() => embedOut.weight!.detach();

    /// <summary><see cref="ILanguageModel.NextTokenLoss"/>, by the name the GPT-NeoX pretrainer calls it.</summary>
    public static Tensor NextTokenLoss(Tensor logits, Tensor tokens) => ILanguageModel.NextTokenLoss(logits, tokens);
}

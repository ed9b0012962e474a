using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>The <c>gpt_neox</c> trunk: embeddings, blocks and final LayerNorm.</summary>
public sealed class GptNeoXModel : nn.Module
{
    [ComponentName(Name = "embed_in")] internal readonly Embedding EmbedIn;
    [ComponentName(Name = "layers")] internal readonly ModuleList<GptNeoXLayer> Layers;
    [ComponentName(Name = "final_layer_norm")] internal readonly LayerNorm FinalLayerNorm;

    /// <summary>Creates the trunk.</summary>
    public GptNeoXModel(GptNeoXConfig config) : base("gpt_neox")
    {
        EmbedIn = nn.Embedding(config.VocabSize, config.HiddenSize);
        Layers = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new GptNeoXLayer(config)).ToArray());
        FinalLayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        RegisterComponents();
    }
}

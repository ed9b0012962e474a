using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Lens;

/// <summary>
/// A <see cref="TunedLens"/> as the residual stream's hook: which translator each model layer gets,
/// which inverse maps reconstructions back, and where special-token zeroing sits.
/// </summary>
/// <remarks>
/// By default the alignment follows the lens's training: translator i read HF <c>hidden_states[i]</c>,
/// the stream entering block i, so the output of block l (this tool's layer l) gets translator l+1
/// and the last block's output the identity (the model's own unembedding is the lens there);
/// reconstructions go back through the exact inverse, and special-token positions are zeroed after
/// the lens (they stay zero vectors). Under the reference's quirks (mlsae's <c>forward_lens</c>), the
/// i-th chosen layer gets translator i (its <c>range(n_layers)</c> loop), the "inverse" is
/// <see cref="TunedLens.InvertDiagonal"/>, and positions are zeroed first (so their rows become b_i).
/// </remarks>
public sealed class TunedLensHook : IResidualHook, IDisposable
{
    readonly Dictionary<int, int?> translatorOf = new();

    /// <summary>Applies <paramref name="lens"/> to <paramref name="layers"/> (model layer indices, in the
    /// residual stream's row order) of a model of <paramref name="numLayers"/> blocks of width
    /// <paramref name="hiddenSize"/>; a lens tuned for another shape is an error naming both.</summary>
    public TunedLensHook(TunedLens lens, IReadOnlyList<int> layers, int numLayers, int hiddenSize, string modelName, bool referenceQuirks)
    {
        lens.CheckFits(numLayers, hiddenSize, modelName);
        Lens = lens;
        ReferenceQuirks = referenceQuirks;
        for (int i = 0; i < layers.Count; i++)
            translatorOf[layers[i]] = referenceQuirks ? i : layers[i] + 1 < numLayers ? layers[i] + 1 : null;
    }

    /// <summary>The factory <see cref="ModelSession.Open"/> takes: the hook for the loaded model and its
    /// chosen layers, which then owns <paramref name="lens"/>.</summary>
    public static Func<ILanguageModel, int[], IResidualHook> For(TunedLens lens, string modelName, bool referenceQuirks) =>
        (model, layers) => new TunedLensHook(lens, layers, model.Config.NumHiddenLayers, model.Config.HiddenSize, modelName, referenceQuirks);

    /// <summary>The lens.</summary>
    public TunedLens Lens { get; }
    /// <summary>Whether the reference's alignment, diagonal inverse and zeroing order apply.</summary>
    public bool ReferenceQuirks { get; }

    /// <summary>The translator model layer <paramref name="layer"/> gets; null for the identity.</summary>
    public int? Translator(int layer) => translatorOf.TryGetValue(layer, out var t) ? t
        : throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} is not one of the hooked layers");

    /// <inheritdoc />
    public bool ZeroSpecialFirst => ReferenceQuirks;

    /// <inheritdoc />
    public Tensor In(Tensor hidden, int layer) => Translator(layer) is int t ? Lens.Translate(hidden, t) : hidden.to(ScalarType.Float32).alias();

    /// <inheritdoc />
    public Tensor Out(Tensor translated, int layer) => Translator(layer) is not int t ? translated.alias()
        : ReferenceQuirks ? Lens.InvertDiagonal(translated, t) : Lens.Invert(translated, t);

    /// <summary>Disposes the lens.</summary>
    public void Dispose() => Lens.Dispose();
}

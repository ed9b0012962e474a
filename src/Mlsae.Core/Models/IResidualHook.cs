using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>
/// A per-layer map between the model's residual stream and the space the SAE reads (a tuned lens
/// is one). <see cref="ResidualStream"/> applies <see cref="In"/> to each layer's block output,
/// before zeroing special-token positions unless <see cref="ZeroSpecialFirst"/>, so that zeroed
/// positions stay zero for the SAE even when the map adds a bias; <see cref="Metrics.DownstreamMetrics"/>
/// applies <see cref="Out"/> to the SAE-space reconstruction of a layer before the model runs on
/// from that layer. Without a hook both are the identity. Implementations return fresh tensors and
/// do not dispose their arguments.
/// </summary>
public interface IResidualHook
{
    /// <summary>Maps the block output of model layer <paramref name="layer"/> into the SAE's space.
    /// // [B, T, D] float32 → [B, T, D]</summary>
    Tensor In(Tensor hidden, int layer);

    /// <summary>Maps SAE-space vectors of model layer <paramref name="layer"/> (a reconstruction, or
    /// the SAE's inputs) back into the model's residual stream. // [B, T, D] → [B, T, D]</summary>
    Tensor Out(Tensor translated, int layer);

    /// <summary>Whether special-token positions are zeroed before <see cref="In"/> (so a map with a bias
    /// moves them off zero, as the reference does with its tuned lens) instead of after it.</summary>
    bool ZeroSpecialFirst => false;

    /// <summary><see cref="Out"/> of <paramref name="hook"/>, shape-checked, or the vectors as they are
    /// without a hook: SAE-space vectors of model layer <paramref name="layer"/> in the residual basis.
    /// // [B, T, D] → [B, T, D]</summary>
    static Tensor ToResidual(IResidualHook? hook, Tensor translated, int layer)
    {
        if (hook is null) return translated;
        var hidden = hook.Out(translated, layer);
        Tensors.Shapes.Check(hidden, $"residual hook Out(layer {layer})", translated.shape);
        return hidden;
    }
}

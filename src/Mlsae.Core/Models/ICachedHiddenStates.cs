using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>
/// Block outputs stored ahead of time (an activation cache), which a <see cref="ResidualStream"/>
/// reads instead of running its model. What it returns must be what the model's own
/// <see cref="ILanguageModel.Forward"/> returns for those tokens, before any hook or special-token
/// zeroing: the stream applies both itself, so a cached run and a model run differ only in where
/// the block outputs came from.
/// </summary>
public interface ICachedHiddenStates
{
    /// <summary>The stored block outputs of <paramref name="layers"/> (model indices) for every row of
    /// <paramref name="tokens"/>, as float32 on the tokens' device, or null when any row is not stored
    /// (the stream then runs the model on the whole batch). // tokens [B, T] → [L, B, T, D] float32</summary>
    Tensor? Read(Tensor tokens, IReadOnlyList<int> layers);
}

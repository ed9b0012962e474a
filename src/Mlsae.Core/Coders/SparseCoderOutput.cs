using Mlsae.Autoencoder;
using static TorchSharp.torch;

namespace Mlsae.Coders;

/// <summary>One forward pass of a sparse coder, shaped like its input (<c>[L, B, T, D]</c>): the
/// sparse codes per layer the analyses read, the reconstruction, and what the loss needs.</summary>
/// <param name="TopK">ReLU'd TopK values and their latents. // [L, B, T, K]</param>
/// <param name="TopKRaw">The TopK values before ReLU (what the analyses use). // [L, B, T, K]</param>
/// <param name="Recons">The reconstruction in raw space. // [L, B, T, D]</param>
/// <param name="AuxK">ReLU'd AuxK values and latents, when AuxK is on. // [L, B, T, AuxK] ([B, T, AuxK] for a
/// coder with <see cref="ISparseCoder.CodesPerToken"/>)</param>
/// <param name="AuxKRecons">Their reconstruction: the model of <paramref name="AuxKError"/>. For the
/// MLSAE in standardized space, with the bias (reference quirks) or without it (consistent). // [L, B, T, D]</param>
/// <param name="AuxKError">The error AuxK models: for the MLSAE the standardized input minus the
/// standardized reconstruction (consistent), or the raw input minus the reconstruction (reference
/// quirks). // [L, B, T, D]</param>
/// <param name="Dead">Fraction of latents dead in this call. // []</param>
public sealed record SparseCoderOutput(TopK TopK, Tensor TopKRaw, Tensor Recons, TopK? AuxK, Tensor? AuxKRecons,
    Tensor? AuxKError, Tensor Dead) : IDisposable
{
    /// <summary>For a coder with <see cref="ISparseCoder.CodesPerToken"/> (the crosscoder): each token's
    /// ReLU'd TopK activations and latents, one code for all its layers; null otherwise. // [B, T, K]</summary>
    public TopK? TokenTopK { get; init; }

    /// <inheritdoc />
    public void Dispose()
    {
        TokenTopK?.Dispose();
        TopK.Dispose();
        TopKRaw.Dispose();
        Recons.Dispose();
        AuxK?.Dispose();
        AuxKRecons?.Dispose();
        AuxKError?.Dispose();
        Dead.Dispose();
    }
}

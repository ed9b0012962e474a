using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>One forward pass of the autoencoder, shaped like its input (<c>[L, B, T, D]</c> in training).</summary>
/// <param name="TopK">ReLU'd TopK values and their latents. // [..., K]</param>
/// <param name="TopKRaw">The TopK values before ReLU (what the analyses use). // [..., K]</param>
/// <param name="Recons">The reconstruction in raw space. // [..., D]</param>
/// <param name="AuxK">ReLU'd AuxK values and latents, when AuxK is on. // [..., AuxK]</param>
/// <param name="AuxKRecons">Their reconstruction in standardized space: with the bias (reference)
/// or without it (consistent). // [..., D]</param>
/// <param name="StandardizedError">Standardized input minus the standardized reconstruction
/// (including the bias); the consistent AuxK target. // [..., D]</param>
/// <param name="Dead">Fraction of latents dead in this call. // []</param>
public sealed record MlsaeOutput(TopK TopK, Tensor TopKRaw, Tensor Recons, TopK? AuxK, Tensor? AuxKRecons,
    Tensor? StandardizedError, Tensor Dead) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        TopK.Dispose();
        TopKRaw.Dispose();
        Recons.Dispose();
        AuxK?.Dispose();
        AuxKRecons?.Dispose();
        StandardizedError?.Dispose();
        Dead.Dispose();
    }
}

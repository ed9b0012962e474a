using static TorchSharp.torch;

namespace Mlsae.Coders;

/// <summary>The terms of a sparse coder's training loss for one batch (the MLSAE: the reference's
/// <c>MSELoss</c> over layers plus <c>AuxiliaryLoss</c>). All keep their graph: <see cref="Total"/>
/// is what the trainer backpropagates.</summary>
/// <param name="Total">The loss: <paramref name="FvuMean"/> + <paramref name="AuxK"/> (for a per-layer family the sum
/// of its SAEs' own losses, so that each SAE gets exactly the gradient it would get alone). // []</param>
/// <param name="FvuMean">The mean over layers of <paramref name="Fvu"/> (the reference logs it as <c>loss_mse</c>). // []</param>
/// <param name="Fvu">FVU per layer: MSE / pooled input variance. // [L]</param>
/// <param name="AuxK">The AuxK loss, its coefficient applied; zero when AuxK is off (a per-layer family: the sum
/// over its SAEs). // []</param>
public sealed record SparseCoderLoss(Tensor Total, Tensor FvuMean, Tensor Fvu, Tensor AuxK) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Total.Dispose();
        FvuMean.Dispose();
        Fvu.Dispose();
        AuxK.Dispose();
    }
}

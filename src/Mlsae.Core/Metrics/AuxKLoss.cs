using static TorchSharp.torch;

namespace Mlsae.Metrics;

/// <summary>
/// The AuxK loss (Gao et al. 2024, A.2): how well the top dead latents model the main
/// reconstruction's error, normalized by that error's variance, over all layers at once, times a
/// coefficient; 0/0 becomes 0 (<c>nan_to_num</c>), as in the reference's <c>AuxiliaryLoss</c>.
/// </summary>
public static class AuxKLoss
{
    /// <summary>The loss for an error and its AuxK model. // [L, B, T, D] each → []</summary>
    public static Tensor Compute(Tensor error, Tensor auxkRecons, double coefficient)
    {
        var normalized = (error - auxkRecons).pow(2).mean() / (error - error.mean([-1], keepdim: true)).pow(2).mean();
        return normalized.nan_to_num(0) * coefficient;
    }

    /// <summary>
    /// The loss of one forward pass. With <paramref name="referenceQuirks"/> the error is taken in
    /// raw space (<c>inputs − recons</c>) against an AuxK reconstruction made in standardized space
    /// with the bias, exactly as the reference; otherwise both live in standardized space.
    /// </summary>
    public static Tensor Compute(Tensor inputs, Autoencoder.MlsaeOutput output, bool referenceQuirks, double coefficient)
    {
        if (output.AuxKRecons is null) return zeros([], inputs.dtype, inputs.device);
        var error = referenceQuirks ? inputs - output.Recons : output.StandardizedError!;
        return Compute(error, output.AuxKRecons, coefficient);
    }
}

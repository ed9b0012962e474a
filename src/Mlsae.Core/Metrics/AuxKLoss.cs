using Mlsae.Coders;
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
    /// The loss of one forward pass: its AuxK reconstruction against the error it models, both as
    /// the coder made them under its settings (for the MLSAE with reference quirks the error in raw
    /// space against a reconstruction in standardized space with the bias, exactly as the
    /// reference; otherwise both in standardized space). Zero when AuxK is off. // []
    /// </summary>
    public static Tensor Compute(SparseCoderOutput output, double coefficient) =>
        output.AuxKRecons is null || output.AuxKError is null
            ? zeros([], output.Recons.dtype, output.Recons.device)
            : Compute(output.AuxKError, output.AuxKRecons, coefficient);
}

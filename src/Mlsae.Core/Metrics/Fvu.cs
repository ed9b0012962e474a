using static TorchSharp.torch;

namespace Mlsae.Metrics;

/// <summary>Reconstruction error per layer, as the reference's <c>LayerwiseMSE</c>,
/// <c>LayerwiseFVU</c> and <c>MSELoss</c>: raw space, a pooled scalar variance per layer.</summary>
public static class Fvu
{
    /// <summary>Mean squared error per layer, over batch, positions and features. // [L, B, T, D] → [L]</summary>
    public static Tensor LayerMse(Tensor inputs, Tensor recons) => (recons - inputs).pow(2).mean([1, 2, 3]);

    /// <summary>The unbiased variance of each layer's inputs, pooled over all of B·T·D (not per feature). // [L]</summary>
    public static Tensor LayerVariance(Tensor inputs) => inputs.reshape(inputs.shape[0], -1).var(1, unbiased: true);

    /// <summary>FVU per layer: MSE / pooled variance. // [L]</summary>
    public static Tensor PerLayer(Tensor inputs, Tensor recons) => LayerMse(inputs, recons) / LayerVariance(inputs);

    /// <summary>The training loss: the mean over layers of FVU. // []</summary>
    public static Tensor Loss(Tensor inputs, Tensor recons) => PerLayer(inputs, recons).mean();
}

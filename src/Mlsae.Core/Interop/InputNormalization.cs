namespace Mlsae.Interop;

/// <summary>SAELens's <c>normalize_activations</c>: how an input vector is rescaled before encoding,
/// and the reconstruction mapped back after decoding. sparsify has none.</summary>
public enum InputNormalization
{
    /// <summary><c>none</c>.</summary>
    None,
    /// <summary><c>expected_average_only_in</c>: multiplied by a fixed factor (SAELens's
    /// <c>ActivationScaler</c>, √d_in over the mean norm of the training inputs), the
    /// reconstruction divided by it; see <see cref="ExternalSaeConfig.ScalingFactor"/>.</summary>
    ExpectedAverageOnlyIn,
    /// <summary><c>constant_norm_rescale</c>: each vector scaled to norm √d_in, the reconstruction
    /// scaled back by the same per-vector coefficient. A zero vector gives NaN, as in SAELens.</summary>
    ConstantNormRescale,
    /// <summary><c>layer_norm</c>: each vector centred and divided by (its unbiased std + 1e-5), the
    /// reconstruction multiplied by that std and the mean added back.</summary>
    LayerNorm,
}

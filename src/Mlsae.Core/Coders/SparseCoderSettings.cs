using Mlsae.Autoencoder;
using static TorchSharp.torch;

namespace Mlsae.Coders;

/// <summary>
/// How a sparse coder computes, beyond the shape its checkpoint config records: given when it is
/// built or loaded and fixed from then on. This is the one place that holds the
/// <c>--reference-quirks</c> flag; the AuxK target, the bias initialization and the dead-latent
/// rule all read it from here. A run's settings come from its options
/// (<c>Training.CoderSettings.Of</c>).
/// </summary>
public sealed record SparseCoderSettings
{
    /// <summary>Reproduce the reference's four inconsistencies exactly (README, "Multi-layer SAEs"):
    /// the AuxK reconstruction decoded with the bias and compared with the error in raw space; dead
    /// latents counted in forward calls against the checkpoint's <c>dead_steps_threshold</c> (the
    /// reference's <c>dead_tokens_threshold // (batch · max_length · accumulate)</c>); the bias
    /// initialized at the geometric median of the raw first batch; a training run's validation
    /// calls advancing the dead-latent counters (<c>Training.MlsaeTrainer</c>). False: the consistent versions.</summary>
    public bool ReferenceQuirks { get; init; }
    /// <summary>Tokens without firing after which a latent is dead (the consistent rule; with
    /// <see cref="ReferenceQuirks"/> the reference's call count decides instead).</summary>
    public long DeadTokensThreshold { get; init; } = 10_000_000;
    /// <summary>Coefficient of the AuxK loss; 0 leaves it out of the loss.</summary>
    public double AuxKCoef { get; init; } = 1.0 / 32;
    /// <summary>Dtype of the encoder matmul, the step's largest product: float32, or bfloat16/float16
    /// by explicit casting for CUDA (TorchSharp has no autocast). Parameters, TopK values, the
    /// decode and the loss stay float32.</summary>
    public ScalarType ComputeDType { get; init; } = ScalarType.Float32;
    /// <summary>Which kernels run the forward and backward (the results agree; see <see cref="MlsaeKernels"/>).</summary>
    public MlsaeKernels Kernels { get; init; } = MlsaeKernels.Sparse;

    /// <summary>The dead-latent rule these settings give a coder whose config records the
    /// reference's <paramref name="deadStepsThreshold"/>: tokens against
    /// <see cref="DeadTokensThreshold"/>, or with <see cref="ReferenceQuirks"/> forward calls against
    /// <paramref name="deadStepsThreshold"/>.</summary>
    public DeadLatentRule DeadLatentRuleFor(long deadStepsThreshold) => ReferenceQuirks
        ? new DeadLatentRule(false, deadStepsThreshold)
        : new DeadLatentRule(true, DeadTokensThreshold);

    /// <summary>Fails with a message naming the flag behind a bad value.</summary>
    public SparseCoderSettings Validate()
    {
        if (DeadTokensThreshold <= 0) throw new MlsaeException($"--dead-tokens-threshold must be positive, got {DeadTokensThreshold}");
        if (!(AuxKCoef >= 0) || !double.IsFinite(AuxKCoef)) throw new MlsaeException($"--auxk-coef must be a non-negative number, got {AuxKCoef}");
        if (ComputeDType is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new MlsaeException($"--dtype: {ComputeDType} is not a compute dtype (float32, bfloat16, float16)");
        if (!Enum.IsDefined(Kernels)) throw new MlsaeException($"kernels: unknown value {Kernels}");
        return this;
    }
}

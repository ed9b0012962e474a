using Mlsae.Coders;
using Mlsae.Tensors;

namespace Mlsae.Training;

/// <summary>The one mapping from a run's options (the user's flags, <c>run.json</c>) to the
/// settings of the sparse coder it trains.</summary>
public static class CoderSettings
{
    /// <summary>
    /// The coder settings of a run: <c>--reference-quirks</c>, <c>--dead-tokens-threshold</c>,
    /// <c>--auxk-coef</c>, and <c>--dtype</c> as the encoder's compute dtype; the default kernels.
    /// The reference's dead-latent rule needs no more: its call threshold is the
    /// <c>dead_steps_threshold</c> the coder's config records (<see cref="TrainOptions.DeadStepsThreshold"/>).
    /// </summary>
    public static SparseCoderSettings Of(TrainOptions options) => new SparseCoderSettings
    {
        ReferenceQuirks = options.Autoencoder.ReferenceQuirks,
        DeadTokensThreshold = options.Autoencoder.DeadTokensThreshold,
        AuxKCoef = options.Autoencoder.AuxKCoef,
        ComputeDType = DTypes.Parse(options.Autoencoder.DType),
    }.Validate();
}

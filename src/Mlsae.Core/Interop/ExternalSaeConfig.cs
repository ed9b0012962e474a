namespace Mlsae.Interop;

/// <summary>
/// The architecture of a single-layer TopK SAE as SAELens or sparsify define it, in neither tool's
/// vocabulary: what <see cref="ExternalTopKSae.Forward"/> needs, plus where the SAE was trained
/// (hookpoint, model). Unlike this tool's MLSAE there is no per-vector standardization, the encoder
/// has a bias, and the decoder bias is (optionally) subtracted from the input instead of a
/// pre-encoder bias.
/// </summary>
public sealed record ExternalSaeConfig
{
    /// <summary>Inputs per vector (D): SAELens <c>d_in</c>, sparsify <c>d_in</c>.</summary>
    public required int NInputs { get; init; }
    /// <summary>Latents (F): SAELens <c>d_sae</c>, sparsify <c>num_latents</c> (or <c>d_in · expansion_factor</c>).</summary>
    public required int NLatents { get; init; }
    /// <summary>Latents kept per vector (K).</summary>
    public required int K { get; init; }
    /// <summary>How the K latents are chosen from the pre-activations.</summary>
    public required ExternalActivation Activation { get; init; }
    /// <summary>Whether the decoder bias is subtracted from the (normalized) input before encoding:
    /// SAELens <c>apply_b_dec_to_input</c>; always for a sparsify SAE.</summary>
    public bool SubtractDecoderBias { get; init; } = true;
    /// <summary>SAELens <c>normalize_activations</c>.</summary>
    public InputNormalization Normalization { get; init; } = InputNormalization.None;
    /// <summary>The input factor of <see cref="InputNormalization.ExpectedAverageOnlyIn"/> (SAELens's
    /// <c>activation_scaler.json</c> <c>scaling_factor</c>); null for every other normalization.</summary>
    public double? ScalingFactor { get; init; }
    /// <summary>SAELens <c>rescale_acts_by_decoder_norm</c>: pre-activations are multiplied by each
    /// latent's decoder row norm before the selection, and the selected values divided by it
    /// before decoding.</summary>
    public bool RescaleByDecoderNorm { get; init; }
    /// <summary>The tool the SAE was read from (and whose hookpoint names <see cref="Hookpoint"/> uses).</summary>
    public required ExternalSaeFormat Format { get; init; }
    /// <summary>Where the SAE reads the model: a SAELens <c>hook_name</c> or a sparsify hookpoint
    /// (its folder name); null when unknown. <see cref="HookpointNames"/> maps it to a layer.</summary>
    public string? Hookpoint { get; init; }
    /// <summary>The model it was trained on as its files name it (SAELens <c>model_name</c>,
    /// sparsify's run <c>config.json</c> <c>model</c>); null when they do not.</summary>
    public string? ModelName { get; init; }

    /// <summary>Fails with a message starting with <paramref name="where"/> that names the bad value.</summary>
    public ExternalSaeConfig Validate(string where)
    {
        if (NInputs <= 0) throw new MlsaeException($"{where}: d_in must be positive, got {NInputs}");
        if (NLatents <= 0) throw new MlsaeException($"{where}: the number of latents must be positive, got {NLatents}");
        if (K <= 0 || K > NLatents) throw new MlsaeException($"{where}: k must be in 1..{NLatents} (the number of latents), got {K}");
        if (Activation == ExternalActivation.GroupMax && NLatents % K != 0)
            throw new MlsaeException($"{where}: groupmax needs the number of latents ({NLatents}) to be a multiple of k ({K})");
        if ((Normalization == InputNormalization.ExpectedAverageOnlyIn) != ScalingFactor.HasValue)
            throw new MlsaeException($"{where}: a scaling factor goes with normalize_activations expected_average_only_in, and only with it");
        if (ScalingFactor is double s && !(double.IsFinite(s) && s > 0))
            throw new MlsaeException($"{where}: scaling_factor must be a positive finite number, got {s}");
        return this;
    }
}

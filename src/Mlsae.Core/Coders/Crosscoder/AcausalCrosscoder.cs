using Mlsae.Autoencoder;
using Mlsae.Metrics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Coders.Crosscoder;

/// <summary>
/// A feature-stacked, acausal crosscoder (Lindsey et al. 2024, "Sparse crosscoders"): per token, one
/// latent vector for all L chosen layers. Each layer's vector is standardized as the MLSAE does and
/// its own pre-encoder bias subtracted; the pre-activations are the sum over layers of per-layer
/// encoders; TopK (K per token, across all its layers) then ReLU; per-layer decoders write each
/// layer's reconstruction, plus that layer's bias, de-standardized with that layer's statistics.
/// Each latent's decoder column is unit-norm over the concatenated layers. Loss: the mean over
/// layers of the per-layer FVU, plus AuxK on dead latents modelling the standardized error.
/// <para>
/// The parameters are held latent-major, <c>[F, L·D]</c> (row f: latent f's encoder or decoder over
/// the concatenated layers), so the encoder and its TopK are exactly the MLSAE's
/// <see cref="TopKEncoder"/> and the decode its <see cref="SparseDecoder"/> over <c>L·D</c> inputs,
/// with the same sparse backward; renormalizing and projecting the decoder are the MLSAE's formulas
/// over the concatenation. The checkpoint's <c>[L, F, D]</c> / <c>[L, D, F]</c> layout is
/// <see cref="CrosscoderCheckpoint"/>'s, the one place that transposes.
/// </para>
/// <para>
/// Its per-layer codes (<see cref="SparseCoderOutput.TopK"/>, <c>[L, B, T, K]</c>) are the same K latents
/// at every layer, each valued at its activation-weighted reconstruction norm in that layer, in raw
/// space: activation × the norm of its decoder slice at the layer × the token's std at the layer
/// (when standardized). So L0 per layer counts the latents whose contribution at that layer exceeds
/// the dead threshold, and the dists, variances and prompt analyses read, where the MLSAE has its
/// activation per layer, each latent's share of its reconstruction per layer. The token-level codes
/// are <see cref="SparseCoderOutput.TokenTopK"/>.
/// </para>
/// </summary>
public sealed class AcausalCrosscoder : ISparseCoder
{
    /// <summary>The crosscoder's <see cref="ISparseCoder.Kind"/>, as its checkpoint config names it.</summary>
    public const string KindName = "crosscoder";

    readonly SparseDecoder sparseDecoder;

    /// <summary>The architecture.</summary>
    public CrosscoderConfig Config { get; }
    /// <inheritdoc />
    public SparseCoderSettings Settings { get; }
    /// <summary>Row f: latent f's encoders of every layer, concatenated. // [F, L·D]</summary>
    public Parameter Encoder { get; }
    /// <summary>Row f: latent f's decoders of every layer, concatenated; unit-norm rows. // [F, L·D]</summary>
    public Parameter Decoder { get; }
    /// <summary>Each layer's pre-encoder bias, in standardized space. // [L, D]</summary>
    public Parameter PreEncoderBias { get; }
    /// <summary>Counters behind the dead-latent mask: a latent fires on a token when its activation exceeds the dead threshold.</summary>
    public DeadLatents DeadLatents { get; }

    /// <inheritdoc />
    public string Kind => KindName;
    /// <inheritdoc />
    public int NInputs => Config.NInputs;
    /// <inheritdoc />
    public int NLatents => Config.NLatents;
    /// <summary>Latents kept per token, across all its layers.</summary>
    public int K => Config.K;
    /// <inheritdoc />
    public int? AuxK => Config.AuxK;
    /// <summary>L: the inputs must have exactly the layers it was trained on.</summary>
    public int? Layers => Config.NLayers;
    /// <inheritdoc />
    public double DeadThreshold => Config.DeadThreshold;
    /// <inheritdoc />
    public Device Device => Encoder.device;
    /// <summary>True: one latent vector per token for all its layers.</summary>
    public bool CodesPerToken => true;
    /// <summary>Encoder, decoder, bias.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }
    /// <summary><c>encoder</c>, <c>decoder</c> (both <c>[F, L·D]</c>), <c>pre_encoder_bias</c> (<c>[L, D]</c>).</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters { get; }
    /// <summary>The dead-latent counters: <c>last_nonzero</c>, <c>tokens_since_fired</c>.</summary>
    public IReadOnlyList<(string Name, Tensor Buffer)> NamedBuffers => [("last_nonzero", DeadLatents.LastNonzero), ("tokens_since_fired", DeadLatents.TokensSinceFired)];

    long LD => (long)Config.NLayers * Config.NInputs;

    /// <summary>
    /// A fresh crosscoder initialized as the MLSAE is where it applies: the encoder from U(−1/√(L·D), 1/√(L·D))
    /// (nn.Linear's default for its L·D inputs, so the pre-activations start at the MLSAE's scale), the
    /// decoder its transpose with each latent's column unit-norm over the concatenated layers, the biases zero.
    /// </summary>
    public static AcausalCrosscoder Create(CrosscoderConfig config, SparseCoderSettings settings, long seed, Device? device = null)
    {
        config.Validate();
        using var generator = new Generator((ulong)seed);
        long ld = (long)config.NLayers * config.NInputs;
        double bound = 1 / Math.Sqrt(ld);
        using var _ = no_grad();
        var encoder = rand([config.NLatents, ld], generator: generator).mul_(2 * bound).sub_(bound);
        return new AcausalCrosscoder(config, encoder, encoder, zeros(config.NLayers, config.NInputs), settings, device ?? CPU, normalizeDecoder: true);
    }

    /// <summary>Wraps existing weights (copied to <paramref name="device"/>), in the latent-major layout:
    /// <paramref name="encoder"/> and <paramref name="decoder"/> <c>[F, L·D]</c>, <paramref name="preEncoderBias"/> <c>[L, D]</c>.</summary>
    public AcausalCrosscoder(CrosscoderConfig config, Tensor encoder, Tensor decoder, Tensor preEncoderBias, SparseCoderSettings settings,
        Device device, bool normalizeDecoder = false)
    {
        Config = config.Validate();
        Settings = settings.Validate();
        if (settings.ReferenceQuirks)
            throw new MlsaeException("--reference-quirks: the quirks reproduce the reference's MLSAE; the reference has no crosscoder (train it in the consistent mode)");
        Tensors.Shapes.Check(encoder, "encoder (latent-major)", config.NLatents, LD);
        Tensors.Shapes.Check(decoder, "decoder (latent-major)", config.NLatents, LD);
        Tensors.Shapes.Check(preEncoderBias, "pre_encoder_bias", config.NLayers, config.NInputs);
        Encoder = new Parameter(encoder.to(ScalarType.Float32, device).contiguous().clone());
        Decoder = new Parameter(decoder.to(ScalarType.Float32, device).contiguous().clone());
        PreEncoderBias = new Parameter(preEncoderBias.to(ScalarType.Float32, device).contiguous().clone());
        NamedParameters = [("encoder", Encoder), ("decoder", Decoder), ("pre_encoder_bias", PreEncoderBias)];
        Parameters = [Encoder, Decoder, PreEncoderBias];
        foreach (var p in Parameters) p.DetachFromDisposeScope();
        if (normalizeDecoder) NormalizeDecoder();
        DeadLatents = new DeadLatents(config.NLatents, settings.DeadLatentRuleFor(0), device);
        sparseDecoder = new SparseDecoder(Decoder);
    }

    /// <summary>
    /// Encodes and decodes <paramref name="inputs"/> // [L, B, T, D]. With <paramref name="training"/>
    /// the dead-latent counters record the call's B·T tokens (applied at the step's end, as the MLSAE's
    /// consistent order).
    /// </summary>
    public SparseCoderOutput Forward(Tensor inputs, bool training)
    {
        CheckInputs(inputs);
        long layers = Config.NLayers, d = Config.NInputs, b = inputs.shape[1], t = inputs.shape[2], n = b * t;
        var x = inputs.reshape(layers, n, d);                                            // [L, N, D]
        using var stats = Config.Standardize ? Standardization.Of(x) : null;           // Std, Mean [L, N, 1]
        var standardized = stats?.Standardized ?? x;
        var stacked = standardized.permute(1, 0, 2).reshape(n, LD);                      // [N, L·D]
        var selection = new TopKEncoder.Selection
        {
            K = Config.K,
            AuxK = Config.AuxK,
            ComputeDType = Settings.ComputeDType,
            DeadMask = topk => DeadMaskFor(topk, training, n),
        };
        var bias = PreEncoderBias.reshape(LD);                                           // [L·D], a view
        var raw = Settings.Kernels == MlsaeKernels.Sparse
            ? TopKEncoder.apply(stacked, bias, Encoder, selection)
            : DenseEncode(stacked, bias, selection);
        var codes = new TopK(nn.functional.relu(raw[0]), selection.TopKIndices!);        // [N, K]
        var standardizedRecons = ByLayer(Decode(codes)) + PreEncoderBias.unsqueeze(1);  // [L, N, D]
        var recons = (stats?.Undo(standardizedRecons) ?? standardizedRecons).reshape(inputs.shape);
        TopK? auxk = null;
        Tensor? auxkRecons = null, error = null;
        if (Config.AuxK is not null)
        {
            // Gao et al. 2024, A.2, as the MLSAE's consistent mode: the dead latents model the
            // standardized error of every layer, decoded without the bias.
            auxk = new TopK(nn.functional.relu(raw[1]), selection.AuxKIndices!);
            auxkRecons = ByLayer(Decode(auxk)).reshape(inputs.shape);
            error = (standardized - standardizedRecons).reshape(inputs.shape);
        }
        var (values, rawValues, indices) = DecoderSlices.PerLayerCodes(Decoder, Config.NLayers, codes, raw[0], stats?.Std);
        var dead = selection.Dead!.sum(ScalarType.Float32) / Config.NLatents;
        long[] perLayer = [layers, b, t, Config.K];
        return new SparseCoderOutput(new TopK(values.reshape(perLayer), indices.reshape(perLayer)), rawValues.reshape(perLayer), recons,
            auxk?.Reshape([b, t]), auxkRecons, error, dead)
        {
            TokenTopK = codes.Reshape([b, t]),
        };
    }

    void CheckInputs(Tensor inputs)
    {
        if (inputs.dim() != 4 || inputs.shape[0] != Config.NLayers || inputs.shape[^1] != Config.NInputs)
            throw new MlsaeException($"crosscoder: it reads layers [{string.Join(", ", Config.ModelLayers)}] as [{Config.NLayers}, B, T, {Config.NInputs}] inputs, got {Tensors.Shapes.Format(inputs.shape)}");
    }

    /// <summary>A decode over the concatenated layers, split into layers. // [N, L·D] → [L, N, D]</summary>
    Tensor ByLayer(Tensor concatenated) => concatenated.reshape(concatenated.shape[0], Config.NLayers, Config.NInputs).permute(1, 0, 2);

    /// <summary>The dead mask a forward call uses for AuxK: training records the call for the step's end
    /// and uses the mask the step began with, so every micro-batch of a step sees the same one.</summary>
    Tensor DeadMaskFor(TopK topk, bool training, long tokens)
    {
        if (training) DeadLatents.Record(topk, tokens, Config.DeadThreshold);
        return DeadLatents.Mask();
    }

    List<Tensor> DenseEncode(Tensor stacked, Tensor bias, TopKEncoder.Selection selection)
    {
        var latents = TopKEncoder.Latents(stacked - bias, Encoder, Settings.ComputeDType);                  // [N, F]
        var (values, indices) = latents.topk(Config.K, dim: -1, largest: true, sorted: false);
        selection.TopKIndices = indices;
        selection.Dead = selection.DeadMask(new TopK(values.detach(), indices));
        if (Config.AuxK is not int auxk) return [values];
        var (auxValues, auxIndices) = (latents * selection.Dead).topk(auxk, dim: -1, largest: true, sorted: false);
        selection.AuxKIndices = auxIndices;
        return [values, auxValues];
    }

    /// <summary>Σ_j v_j · Decoder[i_j] over the concatenated layers. // [N, K] → [N, L·D]</summary>
    public Tensor Decode(TopK topk) => Settings.Kernels == MlsaeKernels.Sparse
        ? sparseDecoder.Decode(topk)
        : topk.Dense(Config.NLatents).mm(Decoder);

    /// <summary>The mean over layers of FVU (raw space, as the MLSAE's), plus AuxK times its coefficient. // inputs [L, B, T, D]</summary>
    public SparseCoderLoss Loss(Tensor inputs, SparseCoderOutput output)
    {
        CheckInputs(inputs);
        var fvu = Fvu.PerLayer(inputs, output.Recons);                                  // [L]
        var fvuMean = fvu.mean();
        var auxk = Settings.AuxKCoef > 0 ? AuxKLoss.Compute(output, Settings.AuxKCoef) : zeros([], fvuMean.dtype, fvuMean.device);
        return new SparseCoderLoss(fvuMean + auxk, fvuMean, fvu, auxk);
    }

    /// <summary>Sets each layer's bias to the geometric median of that layer's standardized vectors in
    /// the first batch (raw vectors without standardization). // [L, B, T, D]</summary>
    public void InitializeFromFirstBatch(Tensor inputs)
    {
        CheckInputs(inputs);
        using var scope = NewDisposeScope();
        var x = inputs.reshape(Config.NLayers, -1, Config.NInputs);
        if (Config.Standardize) x = Standardization.Of(x).Standardized;
        using var _ = no_grad();
        for (int l = 0; l < Config.NLayers; l++) PreEncoderBias[l].copy_(MlsaeAutoencoder.GeometricMedian(x[l]));
    }

    /// <summary>Rescales every latent's decoder column to unit norm over the concatenated layers.</summary>
    public void NormalizeDecoder() => UnitNormDecoder.Normalize(Decoder);

    /// <summary>Removes from each latent's decoder gradient its component along its (unit-norm) column.</summary>
    public void ProjectDecoderGradient() => UnitNormDecoder.ProjectGradient(Decoder);

    /// <summary>Nothing: the crosscoder always keeps the consistent order.</summary>
    public void AfterBackward() { }

    /// <summary>Projects the step's summed decoder gradient.</summary>
    public void BeforeStep() => ProjectDecoderGradient();

    /// <summary>Renormalizes the decoder after Adam; the dead-latent counters take the step's firings.</summary>
    public void AfterStep()
    {
        NormalizeDecoder();
        DeadLatents.ApplyStep();
    }

    /// <inheritdoc />
    public Tensor? StepTally => DeadLatents.StepTally;

    /// <inheritdoc />
    public Tensor DeadMask() => DeadLatents.Mask();

    /// <summary>Every latent's decoder slice at layer position <paramref name="layer"/>. // [F, D]</summary>
    public LayerDecoder DecoderAt(int layer)
    {
        if (layer < 0 || layer >= Config.NLayers) throw new ArgumentOutOfRangeException(nameof(layer), $"layer position {layer} of {Config.NLayers}");
        using var scope = NewDisposeScope();
        var slice = Decoder.detach().reshape(Config.NLatents, Config.NLayers, Config.NInputs).select(1, layer).contiguous();
        return new LayerDecoder(0, slice.MoveToOuterDisposeScope(), Config.Standardize);
    }

    /// <summary>Each latent's share of its decoder norm per layer (<see cref="DecoderSlices.NormShare"/>). // [L, F] float64</summary>
    public double[,] DecoderNormShare() => DecoderSlices.NormShare(Decoder, Config.NLayers);

    /// <summary>Writes <see cref="CrosscoderCheckpoint"/>'s files.</summary>
    public void Save(string folder) => CrosscoderCheckpoint.Save(this, folder);

    /// <inheritdoc />
    public void Dispose()
    {
        sparseDecoder.Dispose();
        Encoder.Dispose();
        Decoder.Dispose();
        PreEncoderBias.Dispose();
        DeadLatents.Dispose();
    }
}

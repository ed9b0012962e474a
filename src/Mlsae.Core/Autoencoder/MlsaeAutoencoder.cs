using Mlsae.Coders;
using Mlsae.Metrics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// The reference's TopK multi-layer SAE (<c>mlsae/model/autoencoder.py</c>, after Gao et al. 2024):
/// per-vector standardization, pre-encoder bias subtracted in standardized space, encoder
/// <c>[F, D]</c> without bias, TopK then ReLU, sparse decode plus the bias, de-standardization.
/// Every layer's vector is one example; nothing depends on which layer it came from.
/// The decoder is held as <c>[F, D]</c>, one row per latent; the reference's <c>decoder.weight</c>
/// is its transpose <c>[D, F]</c> (the one place that mapping lives is <see cref="MlsaeCheckpoint"/>).
/// </summary>
public sealed class MlsaeAutoencoder : ISparseCoder
{
    /// <summary>The MLSAE's <see cref="ISparseCoder.Kind"/>. Its checkpoint config never records it:
    /// a config without <c>kind</c> is an MLSAE.</summary>
    public const string KindName = "mlsae";

    readonly SparseDecoder sparseDecoder;

    /// <summary>The reference's init arguments.</summary>
    public MlsaeConfig Config { get; }
    /// <inheritdoc />
    public SparseCoderSettings Settings { get; }
    /// <summary><c>encoder.weight</c>. // [F, D]</summary>
    public Parameter Encoder { get; }
    /// <summary><c>decoder.weight</c> transposed: unit-norm rows, one per latent. // [F, D]</summary>
    public Parameter Decoder { get; }
    /// <summary><c>pre_encoder_bias</c>. // [D]</summary>
    public Parameter PreEncoderBias { get; }
    /// <summary>Counters behind the dead-latent mask, under the rule the settings give.</summary>
    public DeadLatents DeadLatents { get; }

    /// <inheritdoc />
    public string Kind => KindName;
    /// <inheritdoc />
    public int NInputs => Config.NInputs;
    /// <inheritdoc />
    public int NLatents => Config.NLatents;
    /// <inheritdoc />
    public int K => Config.K;
    /// <inheritdoc />
    public int? AuxK => Config.AuxK;
    /// <summary>Null: the MLSAE reads any number of layers.</summary>
    public int? Layers => null;
    /// <inheritdoc />
    public double DeadThreshold => Config.DeadThreshold;
    /// <summary>The trainable parameters, in the reference's order: encoder, decoder, bias.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }
    /// <summary>The parameters as the training state names them: <c>encoder</c>, <c>decoder</c> (<c>[F, D]</c>), <c>pre_encoder_bias</c>.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters { get; }
    /// <summary>The dead-latent counters as the training state names them: <c>last_nonzero</c>, <c>tokens_since_fired</c>.</summary>
    public IReadOnlyList<(string Name, Tensor Buffer)> NamedBuffers => [("last_nonzero", DeadLatents.LastNonzero), ("tokens_since_fired", DeadLatents.TokensSinceFired)];
    /// <summary>The device of the parameters.</summary>
    public Device Device => Encoder.device;
    /// <summary>False: every layer's vector of a token is coded on its own.</summary>
    public bool CodesPerToken => false;

    /// <summary>
    /// A fresh autoencoder initialized as the reference's <c>__init__</c>: encoder from
    /// U(−1/√D, 1/√D) (nn.Linear's default), decoder its transpose with unit-norm latent vectors,
    /// bias zero.
    /// </summary>
    public static MlsaeAutoencoder Create(MlsaeConfig config, SparseCoderSettings settings, long seed, Device? device = null)
    {
        config.Validate();
        using var generator = new Generator((ulong)seed);
        double bound = 1 / Math.Sqrt(config.NInputs);
        using var _ = no_grad();
        var encoder = rand([config.NLatents, config.NInputs], generator: generator).mul_(2 * bound).sub_(bound);
        return new MlsaeAutoencoder(config, encoder, encoder.clone(), zeros(config.NInputs), settings, device ?? CPU, normalizeDecoder: true);
    }

    /// <summary>Wraps existing weights (copied to <paramref name="device"/>). <paramref name="decoder"/> is <c>[F, D]</c>.</summary>
    public MlsaeAutoencoder(MlsaeConfig config, Tensor encoder, Tensor decoder, Tensor preEncoderBias, SparseCoderSettings settings,
        Device device, bool normalizeDecoder = false)
    {
        Config = config.Validate();
        Settings = settings.Validate();
        Tensors.Shapes.Check(encoder, "encoder.weight", config.NLatents, config.NInputs);
        Tensors.Shapes.Check(decoder, "decoder.weight (transposed)", config.NLatents, config.NInputs);
        Tensors.Shapes.Check(preEncoderBias, "pre_encoder_bias", config.NInputs);
        // Parameters and counters outlive any dispose scope the caller is in.
        Encoder = new Parameter(encoder.to(ScalarType.Float32, device).clone());
        Decoder = new Parameter(decoder.to(ScalarType.Float32, device).contiguous().clone());
        PreEncoderBias = new Parameter(preEncoderBias.to(ScalarType.Float32, device).clone());
        NamedParameters = [("encoder", Encoder), ("decoder", Decoder), ("pre_encoder_bias", PreEncoderBias)];
        Parameters = [Encoder, Decoder, PreEncoderBias];
        foreach (var p in Parameters) p.DetachFromDisposeScope();
        if (normalizeDecoder) NormalizeDecoder();
        DeadLatents = new DeadLatents(config.NLatents, settings.DeadLatentRuleFor(config.DeadStepsThreshold), device);
        sparseDecoder = new SparseDecoder(Decoder);
    }

    /// <summary>
    /// Encodes and decodes <paramref name="inputs"/> // [..., D] (in training <c>[L, B, T, D]</c>).
    /// With <paramref name="training"/> the dead-latent counters advance, counting
    /// <c>numel / (L · D)</c> token positions for a rank ≥ 3 input.
    /// </summary>
    public SparseCoderOutput Forward(Tensor inputs, bool training)
    {
        Tensors.Shapes.CheckLast(inputs, "inputs", Config.NInputs);
        var leading = inputs.shape[..^1];
        var x = inputs.reshape(-1, Config.NInputs);                                   // [N, D]
        long tokens = leading.Length >= 2 ? x.shape[0] / leading[0] : x.shape[0];
        using var stats = Config.Standardize ? Standardization.Of(x) : null;
        var standardized = stats?.Standardized ?? x;
        var selection = new TopKEncoder.Selection
        {
            K = Config.K,
            AuxK = Config.AuxK,
            ComputeDType = Settings.ComputeDType,
            DeadMask = topk => DeadMaskFor(topk, training, tokens),
            // Known before the TopK unless the reference's order updates the counters with this call.
            ExpectedDeadMask = training && Settings.ReferenceQuirks ? null : DeadLatents.Mask(),
        };
        var raw = Settings.Kernels == MlsaeKernels.Sparse
            ? TopKEncoder.apply(standardized, PreEncoderBias, Encoder, selection)
            : DenseEncode(standardized, selection);
        var topk = new TopK(nn.functional.relu(raw[0]), selection.TopKIndices!);
        var standardizedRecons = Decode(topk) + PreEncoderBias;                       // [N, D]
        var recons = (stats?.Undo(standardizedRecons) ?? standardizedRecons).reshape(inputs.shape);
        TopK? auxk = null;
        Tensor? auxkRecons = null, error = null;
        if (Config.AuxK is not null)
        {
            auxk = new TopK(nn.functional.relu(raw[1]), selection.AuxKIndices!);
            // Reference: decoded with the bias, never de-standardized, against the error in raw
            // space. Consistent (Gao et al. 2024, A.2): a model of the standardized error, so no bias.
            if (Settings.ReferenceQuirks)
            {
                auxkRecons = (Decode(auxk) + PreEncoderBias).reshape(inputs.shape);
                error = inputs - recons;
            }
            else
            {
                auxkRecons = Decode(auxk).reshape(inputs.shape);
                error = (standardized - standardizedRecons).reshape(inputs.shape);
            }
        }
        var dead = selection.Dead!.sum(ScalarType.Float32) / Config.NLatents;
        return new SparseCoderOutput(topk.Reshape(leading), raw[0].reshape([.. leading, Config.K]), recons, auxk?.Reshape(leading), auxkRecons, error, dead);
    }

    /// <summary>The dead mask a forward call uses for AuxK. Training under the reference's quirks
    /// updates the counters with this call first (the reference's order); training in the consistent
    /// order records the call for the step's end and uses the mask the step began with, so every
    /// micro-batch of a step, on every rank, sees the same mask.</summary>
    Tensor DeadMaskFor(TopK topk, bool training, long tokens)
    {
        if (!training) return DeadLatents.Mask();
        if (Settings.ReferenceQuirks) return DeadLatents.Update(topk, tokens, Config.DeadThreshold);
        DeadLatents.Record(topk, tokens, Config.DeadThreshold);
        return DeadLatents.Mask();
    }

    /// <summary>The reference's loss: the mean over layers of FVU, plus AuxK times
    /// <see cref="SparseCoderSettings.AuxKCoef"/> (left out at 0). // inputs [L, B, T, D]</summary>
    public SparseCoderLoss Loss(Tensor inputs, SparseCoderOutput output)
    {
        var fvu = Fvu.PerLayer(inputs, output.Recons);                              // [L]
        var fvuMean = fvu.mean();
        var auxk = Settings.AuxKCoef > 0 ? AuxKLoss.Compute(output, Settings.AuxKCoef) : zeros([], fvuMean.dtype, fvuMean.device);
        return new SparseCoderLoss(fvuMean + auxk, fvuMean, fvu, auxk);
    }

    /// <summary>Σ_j v_j · Decoder[i_j]. // [N, K] → [N, D]</summary>
    public Tensor Decode(TopK topk) => Settings.Kernels == MlsaeKernels.Sparse
        ? sparseDecoder.Decode(topk)
        : topk.Dense(Config.NLatents).mm(Decoder);

    List<Tensor> DenseEncode(Tensor standardized, TopKEncoder.Selection selection)
    {
        var latents = TopKEncoder.Latents(standardized - PreEncoderBias, Encoder, Settings.ComputeDType);   // [N, F]
        var (values, indices) = latents.topk(Config.K, dim: -1, largest: true, sorted: false);
        selection.TopKIndices = indices;
        selection.Dead = selection.DeadMask(new TopK(values.detach(), indices));
        if (Config.AuxK is not int auxk) return [values];
        var (auxValues, auxIndices) = (latents * selection.Dead).topk(auxk, dim: -1, largest: true, sorted: false);
        selection.AuxKIndices = auxIndices;
        return [values, auxValues];
    }

    /// <summary>Rescales every latent's decoder vector to unit norm (the reference's <c>unit_norm_decoder</c>).</summary>
    public void NormalizeDecoder() => UnitNormDecoder.Normalize(Decoder);

    /// <summary>Removes from each latent's decoder gradient its component along that (unit-norm)
    /// vector (the reference's <c>unit_norm_decoder_gradient</c>).</summary>
    public void ProjectDecoderGradient() => UnitNormDecoder.ProjectGradient(Decoder);

    /// <summary>The geometric median (Weiszfeld, as the reference's <c>geometric_median</c>) of
    /// the vectors: the pre-encoder bias initialization. // [..., D] → [D]</summary>
    public static Tensor GeometricMedian(Tensor points, int maxIterations = 100, double tolerance = 1e-5)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = points.reshape(-1, points.shape[^1]);                                // [N, D]
        var current = x.mean([0]);
        for (int i = 0; i < maxIterations; i++)
        {
            var previous = current;
            var weights = 1 / (x - current).norm(1);
            weights = weights / weights.sum();
            current = (weights.unsqueeze(1) * x).sum(0, keepdim: false);
            if ((current - previous).norm().item<float>() < tolerance) break;
        }
        return current.MoveToOuterDisposeScope();
    }

    /// <summary>Sets the pre-encoder bias to the geometric median of a first batch: of the
    /// standardized vectors by default, of the raw ones as the reference does with quirks on.</summary>
    public void InitializeFromFirstBatch(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        var x = inputs.reshape(-1, Config.NInputs);
        if (Config.Standardize && !Settings.ReferenceQuirks) x = Standardization.Of(x).Standardized;
        using var _ = no_grad();
        PreEncoderBias.copy_(GeometricMedian(x));
    }

    /// <summary>Under the reference's quirks its <c>on_after_backward</c> after every backward pass:
    /// <see cref="NormalizeDecoder"/>, then <see cref="ProjectDecoderGradient"/> (so micro-batch 0 of a
    /// step runs on the decoder Adam left, the others on the renormalized one). In the consistent order
    /// nothing: the projection waits for the step's summed gradient (<see cref="BeforeStep"/>).</summary>
    public void AfterBackward()
    {
        if (!Settings.ReferenceQuirks) return;
        NormalizeDecoder();
        ProjectDecoderGradient();
    }

    /// <summary>The consistent order: projects the step's gradient, summed over its micro-batches
    /// (and ranks), off the unit-norm decoder it was computed on.</summary>
    public void BeforeStep()
    {
        if (!Settings.ReferenceQuirks) ProjectDecoderGradient();
    }

    /// <summary>The consistent order: renormalizes the decoder right after Adam, so the next step's
    /// every micro-batch sees unit-norm latents, and gives the dead-latent counters the union of the
    /// step's firings (<see cref="DeadLatents.ApplyStep"/>).</summary>
    public void AfterStep()
    {
        if (Settings.ReferenceQuirks) return;
        NormalizeDecoder();
        DeadLatents.ApplyStep();
    }

    /// <inheritdoc />
    public Tensor? StepTally => Settings.ReferenceQuirks ? null : DeadLatents.StepTally;

    /// <inheritdoc />
    public Tensor DeadMask() => DeadLatents.Mask();

    /// <summary>The one decoder, whatever <paramref name="layer"/>: every layer's vectors are decoded alike.</summary>
    public LayerDecoder DecoderAt(int layer) => new(0, Decoder.detach(), Config.Standardize);

    /// <summary>Writes the reference's checkpoint files (<see cref="MlsaeCheckpoint.Save"/>): a
    /// config without <c>kind</c>, byte for byte the reference's.</summary>
    public void Save(string folder) => MlsaeCheckpoint.Save(this, folder);

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

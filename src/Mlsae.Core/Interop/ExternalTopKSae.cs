using Mlsae.Autoencoder;
using Mlsae.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Interop;

/// <summary>
/// A single-layer TopK SAE with SAELens's or sparsify's architecture, for inference in float32:
/// <c>x̂ = denorm(Σ_j a_j W_dec[i_j] + b_dec)</c> with <c>(a, i) = select(W_enc·(norm(x) − b_dec) + b_enc)</c>
/// (the subtraction of <c>b_dec</c> optional, the selection as <see cref="ExternalSaeConfig.Activation"/>).
/// Weights are held as this library orders them: encoder and decoder both <c>[F, D]</c>. Read and
/// written by <see cref="SaeLensFormat"/> and <see cref="SparsifyFormat"/>; independent of the trainer.
/// </summary>
public sealed class ExternalTopKSae : IDisposable
{
    readonly Parameter decoder;
    readonly SparseDecoder sparseDecoder;
    readonly Tensor? decoderNorms;

    /// <summary>The architecture and provenance.</summary>
    public ExternalSaeConfig Config { get; }
    /// <summary>Encoder weight (SAELens <c>W_enc</c> transposed; sparsify <c>encoder.weight</c>). // [F, D]</summary>
    public Tensor Encoder { get; }
    /// <summary>Encoder bias (SAELens <c>b_enc</c>; sparsify <c>encoder.bias</c>). // [F]</summary>
    public Tensor EncoderBias { get; }
    /// <summary>Decoder weight, one row per latent (SAELens and sparsify <c>W_dec</c>). // [F, D]</summary>
    public Tensor Decoder => decoder;
    /// <summary>Decoder bias (<c>b_dec</c>). // [D]</summary>
    public Tensor DecoderBias { get; }
    /// <summary>The device of the weights.</summary>
    public Device Device { get; }

    /// <summary>
    /// Builds the SAE from copies of the given weights, cast to float32 on <paramref name="device"/>
    /// (default CPU); the arguments are neither kept nor disposed. Shapes are checked against
    /// <paramref name="config"/>, named after <paramref name="where"/>.
    /// </summary>
    /// <param name="config">The architecture; validated here.</param>
    /// <param name="encoder">// [F, D]</param>
    /// <param name="encoderBias">// [F]</param>
    /// <param name="decoderWeight">// [F, D]</param>
    /// <param name="decoderBias">// [D]</param>
    /// <param name="device">Where the weights live.</param>
    /// <param name="where">The file or source named in errors.</param>
    public ExternalTopKSae(ExternalSaeConfig config, Tensor encoder, Tensor encoderBias, Tensor decoderWeight, Tensor decoderBias,
        Device? device = null, string where = "external SAE")
    {
        Config = config.Validate(where);
        int f = config.NLatents, d = config.NInputs;
        Shapes.Check(encoder, $"{where}: encoder weight", f, d);
        Shapes.Check(encoderBias, $"{where}: encoder bias", f);
        Shapes.Check(decoderWeight, $"{where}: decoder weight", f, d);
        Shapes.Check(decoderBias, $"{where}: decoder bias", d);
        Device = device ?? CPU;
        using var scope = NewDisposeScope();
        Encoder = Copy(encoder);
        EncoderBias = Copy(encoderBias);
        DecoderBias = Copy(decoderBias);
        using (var weight = Copy(decoderWeight)) decoder = new Parameter(weight, requires_grad: false);
        decoder.DetachFromDisposeScope();
        sparseDecoder = new SparseDecoder(decoder);
        if (config.RescaleByDecoderNorm)
            using (no_grad()) decoderNorms = decoder.norm(1).DetachFromDisposeScope();         // [F]
    }

    // Owned by this object whatever dispose scope the caller builds it in.
    Tensor Copy(Tensor t)
    {
        using var _ = no_grad();
        return t.detach().to(ScalarType.Float32, Device, copy: true).contiguous().DetachFromDisposeScope();
    }

    /// <summary>
    /// Encodes and decodes <paramref name="x"/> // [..., D] → <see cref="ExternalSaeOutput"/> shaped [..., K] and [..., D],
    /// as the tool that wrote the SAE computes it, in float32 without gradients. The input is cast
    /// to float32 and moved to <see cref="Device"/>; it is not disposed.
    /// </summary>
    public ExternalSaeOutput Forward(Tensor x)
    {
        Shapes.CheckLast(x, "external SAE input", Config.NInputs);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var leading = x.shape[..^1];
        var input = x.to(ScalarType.Float32, Device).reshape(-1, Config.NInputs);            // [N, D]
        var (normalized, denormalize) = Normalize(input);
        var saeIn = Config.SubtractDecoderBias ? normalized - DecoderBias : normalized;
        var pre = nn.functional.linear(saeIn, Encoder, EncoderBias);                        // [N, F]
        if (decoderNorms is not null) pre = pre * decoderNorms;
        var (values, raw, indices) = Select(pre);                                           // [N, K] each
        var decodeValues = decoderNorms is null ? values : values / decoderNorms[indices];
        var recons = denormalize(sparseDecoder.Decode(new TopK(decodeValues, indices)) + DecoderBias);   // [N, D]
        var topk = new TopK(values.reshape([.. leading, Config.K]), indices.reshape([.. leading, Config.K]));
        var output = new ExternalSaeOutput(topk, raw.reshape([.. leading, Config.K]), recons.reshape([.. leading, Config.NInputs]));
        output.TopK.Values.MoveToOuterDisposeScope();
        output.TopK.Indices.MoveToOuterDisposeScope();
        output.TopKRaw.MoveToOuterDisposeScope();
        output.Recons.MoveToOuterDisposeScope();
        return output;
    }

    /// <summary>The input normalization and its inverse for the reconstruction (SAELens's
    /// <c>run_time_activation_norm_fn_in</c> / <c>_out</c>). // [N, D]</summary>
    (Tensor Normalized, Func<Tensor, Tensor> Denormalize) Normalize(Tensor x)
    {
        switch (Config.Normalization)
        {
            case InputNormalization.None:
                return (x, y => y);
            case InputNormalization.ExpectedAverageOnlyIn:
                double s = Config.ScalingFactor!.Value;
                return (x * s, y => y / s);
            case InputNormalization.ConstantNormRescale:
                var coeff = Math.Sqrt(Config.NInputs) / x.norm(1, keepdim: true);             // [N, 1]
                return (x * coeff, y => y / coeff);
            case InputNormalization.LayerNorm:
                var mu = x.mean([1L], keepdim: true);                                         // [N, 1]
                var centred = x - mu;
                var std = centred.std(1, unbiased: true, keepdim: true);                      // [N, 1]
                return (centred / (std + 1e-5), y => y * std + mu);
            default:
                throw new InvalidOperationException($"unknown normalization {Config.Normalization}");
        }
    }

    /// <summary>The K latents of each row of <paramref name="pre"/> // [N, F]: values as returned,
    /// the values before a post-selection ReLU, and indices // [N, K].</summary>
    (Tensor Values, Tensor Raw, Tensor Indices) Select(Tensor pre)
    {
        int k = Config.K;
        switch (Config.Activation)
        {
            case ExternalActivation.ReluThenTopK:
            {
                var (v, i) = pre.relu().topk(k, dim: 1, largest: true, sorted: false);
                return (v, v, i);
            }
            case ExternalActivation.TopKThenRelu:
            {
                var (v, i) = pre.topk(k, dim: 1, largest: true, sorted: false);
                return (v.relu(), v, i);
            }
            case ExternalActivation.GroupMax:
            {
                long group = Config.NLatents / k;
                var (v, i) = pre.relu().reshape(pre.shape[0], k, group).max(2);                // [N, K]
                var offsets = arange(0, Config.NLatents, group, ScalarType.Int64, pre.device);  // [K]
                return (v, v, i + offsets);
            }
            case ExternalActivation.SignedTopK:
            {
                var (_, i) = pre.abs().topk(k, dim: 1, largest: true, sorted: false);
                var v = pre.gather(1, i);
                return (v, v, i);
            }
            default:
                throw new InvalidOperationException($"unknown activation {Config.Activation}");
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        sparseDecoder.Dispose();
        decoderNorms?.Dispose();
        decoder.Dispose();
        Encoder.Dispose();
        EncoderBias.Dispose();
        DecoderBias.Dispose();
    }
}

using Mlsae.Coders;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Explorer;

/// <summary>
/// How the next-token logits of a prompt move when one layer's residual-stream vector is changed
/// and the model runs on from that layer: replaced by the sparse coder's reconstruction
/// (<see cref="Reconstruct"/>), or steered along a latent's decoder direction (<see cref="Steer"/>).
/// Both compare against the model run on from the same layer with its own vectors (not the lens-space
/// ones mapped back), as the downstream metrics do, so a change of nothing moves nothing.
/// </summary>
/// <param name="Layer">The model layer changed.</param>
/// <param name="Increases">Per position, the largest increases of a logit. // [T][top]</param>
/// <param name="Decreases">Per position, the largest decreases (most negative changes). // [T][top]</param>
/// <param name="Logits">Per position, the top logits after the change. // [T][top]</param>
/// <param name="DeltaCe">Loss after minus loss before (ΔCE); null for a one-token prompt.</param>
public sealed record LogitShift(int Layer, TokenLogit[][] Increases, TokenLogit[][] Decreases, TokenLogit[][] Logits, double? DeltaCe)
{
    /// <summary>Replaces model layer <paramref name="layer"/>'s vectors by their reconstruction
    /// (mapped back by the stream's hook when there is one, as the downstream metrics do).</summary>
    public static LogitShift Reconstruct(ModelSession model, ISparseCoder sae, long[] ids, int layer, int top, CancellationToken cancel)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (tokens, stream, row) = Inputs(model, ids, layer);
        cancel.ThrowIfCancellationRequested();
        using var output = sae.Forward(stream.Inputs, training: false);
        return Compare(model, tokens, layer, stream.Hidden[row], IResidualHook.ToResidual(model.Stream.Hook, output.Recons[row], layer), top, cancel);
    }

    /// <summary>
    /// Adds <paramref name="factor"/> × the decoder direction of <paramref name="latent"/> at model
    /// layer <paramref name="layer"/>: what raising its activation by <paramref name="factor"/> adds to
    /// that layer's reconstruction. The direction is the coder's decoder vector for that layer
    /// (<see cref="ISparseCoder.DecoderAt"/>: the MLSAE's one unit-norm vector, the per-layer SAE's of that
    /// layer, the crosscoder's slice at that layer) and lives in standardized space; a
    /// reconstruction is de-standardized as <c>x · σ + μ</c> per vector, so the same step in the
    /// residual basis is <c>factor · σ · d</c> with σ each position's own std (the mean shift
    /// cancels), then mapped through the hook's inverse (a tuned lens) when there is one. A per-layer
    /// latent steers only at its own SAE's layer.
    /// </summary>
    public static LogitShift Steer(ModelSession model, ISparseCoder sae, long[] ids, int layer, int latent, double factor, int top, CancellationToken cancel)
    {
        if (latent < 0 || latent >= sae.NLatents) throw new MlsaeException($"latent {latent} out of range (the SAE has latents 0..{sae.NLatents - 1})");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (tokens, stream, row) = Inputs(model, ids, layer);
        var x = stream.Inputs[row];                                                    // [1, T, D], the SAE's space
        var decoder = sae.DecoderAt(row);
        var direction = decoder.Row(latent)                                            // [D]
            ?? throw new MlsaeException($"latent {latent} writes nothing at layer {layer}: it belongs to another layer's SAE of the per-layer family");
        var scale = decoder.Standardized ? x.std(-1, unbiased: true, keepdim: true) : ones([1, 1, 1], x.dtype, x.device);   // [1, T, 1]
        var step = direction * scale * factor;                                         // [1, T, D]
        // The inverse lens is affine, h = (y − b)·A: a step δ in lens space is δ·A in the residual
        // basis, Out(δ) − Out(0), so every position (special ones too) moves by exactly that.
        var hook = model.Stream.Hook;
        var residualStep = hook is null ? step : IResidualHook.ToResidual(hook, step, layer) - IResidualHook.ToResidual(hook, zeros_like(step), layer);
        var before = stream.Hidden[row];
        return Compare(model, tokens, layer, before, before + residualStep, top, cancel);
    }

    static (Tensor Tokens, ResidualStreamOutput Stream, int Row) Inputs(ModelSession model, long[] ids, int layer)
    {
        if (ids.Length == 0) throw new MlsaeException("the prompt has no tokens");
        int row = Array.IndexOf(model.Layers, layer);
        if (row < 0) throw new MlsaeException($"layer {layer} is not one of the SAE's layers [{string.Join(", ", model.Layers)}]");
        var tokens = model.Stream.Tokens([ids]);                                       // [1, T]
        return (tokens, model.Stream.ForwardBoth(tokens), row);                        // [L, 1, T, D] each
    }


    /// <summary>Runs the model on from <paramref name="layer"/> with the model's own vectors and with the
    /// changed ones, both in the residual basis. // [1, T, D] each</summary>
    static LogitShift Compare(ModelSession model, Tensor tokens, int layer, Tensor before, Tensor after, int top, CancellationToken cancel)
    {
        Tensor Run(Tensor hidden)
        {
            cancel.ThrowIfCancellationRequested();
            return model.Model.ForwardAtLayer(hidden.to(model.Model.DType), layer).to(ScalarType.Float32);   // [1, T, V]
        }
        var logitsBefore = Run(before);
        var logitsAfter = Run(after);
        var change = (logitsAfter - logitsBefore)[0];                                  // [T, V]
        double? delta = tokens.shape[1] < 2 ? null
            : ILanguageModel.NextTokenLoss(logitsAfter, tokens).item<float>() - (double)ILanguageModel.NextTokenLoss(logitsBefore, tokens).item<float>();
        return new LogitShift(layer, TokenLogit.Extremes(change, top, largest: true), TokenLogit.Extremes(change, top, largest: false),
            TokenLogit.Top(logitsAfter[0], top), delta);
    }
}

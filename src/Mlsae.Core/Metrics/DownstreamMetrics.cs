using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Metrics;

/// <summary>What splicing a layer's reconstruction into the model costs downstream, per layer:
/// the reference's <c>LayerwiseLossDelta</c>, <c>LayerwiseLogitMSE</c> and <c>LayerwiseLogitKLDiv</c>.</summary>
/// <param name="LossTrue">CE loss from the true activations. // [L]</param>
/// <param name="LossPred">CE loss from the reconstruction. // [L]</param>
/// <param name="LogitMse">Mean squared difference of the logits. // [L]</param>
/// <param name="KlDiv">KL(pred‖true), summed over positions and vocab, divided by the batch size. // [L]</param>
public sealed record DownstreamMetrics(double[] LossTrue, double[] LossPred, double[] LogitMse, double[] KlDiv)
{
    /// <summary>LossPred − LossTrue per layer.</summary>
    public double[] DeltaLoss => LossPred.Zip(LossTrue, (p, t) => p - t).ToArray();

    /// <summary>Runs the model from each layer on the true activations and on the reconstruction.
    /// <paramref name="layers"/> are model layer indices, one per row of the inputs;
    /// <paramref name="hidden"/> is the model's own residual stream (special positions zeroed as the
    /// SAE saw them). With a <paramref name="hook"/> the reconstructions are in the SAE's space and are
    /// mapped back by <see cref="IResidualHook.Out"/> before the model runs on; the true run is never
    /// mapped. (The reference's tuned-lens runs compare against its lens-space inputs instead, which
    /// runs the model on from vectors it never produced: a bug, not reproduced.)
    /// // hidden, recons [L, B, T, D]; tokens [B, T]</summary>
    public static DownstreamMetrics Compute(ILanguageModel model, IReadOnlyList<int> layers, Tensor hidden, Tensor recons, Tensor tokens,
        IResidualHook? hook = null)
    {
        int n = layers.Count;
        var result = new DownstreamMetrics(new double[n], new double[n], new double[n], new double[n]);
        using var _ = inference_mode();
        for (int i = 0; i < n; i++)
        {
            using var scope = NewDisposeScope();
            var logitsTrue = model.ForwardAtLayer(hidden[i].to(model.DType), layers[i]).to(ScalarType.Float32);   // [B, T, V]
            var logitsPred = model.ForwardAtLayer(IResidualHook.ToResidual(hook, recons[i], layers[i]).to(model.DType), layers[i]).to(ScalarType.Float32);
            result.LossTrue[i] = ILanguageModel.NextTokenLoss(logitsTrue, tokens).item<float>();
            result.LossPred[i] = ILanguageModel.NextTokenLoss(logitsPred, tokens).item<float>();
            result.LogitMse[i] = (logitsTrue - logitsPred).pow(2).mean().item<float>();
            result.KlDiv[i] = KlDivergence(logitsTrue, logitsPred).item<float>();
        }
        return result;
    }

    /// <summary><c>F.kl_div(log_softmax(true), log_softmax(pred), log_target=True, reduction='batchmean')</c>. // [B, T, V] → []</summary>
    public static Tensor KlDivergence(Tensor logitsTrue, Tensor logitsPred)
    {
        var logTrue = logitsTrue.log_softmax(-1);
        var logPred = logitsPred.log_softmax(-1);
        return (logPred.exp() * (logPred - logTrue)).sum() / logitsTrue.shape[0];
    }
}

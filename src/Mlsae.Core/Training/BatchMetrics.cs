namespace Mlsae.Training;

/// <summary>The training metrics of one batch, as the reference's <c>training_step</c> computes them.</summary>
/// <param name="Loss">The total loss (<c>loss/total</c>).</param>
/// <param name="Mse">The mean over layers of FVU (<c>loss/mse</c>).</param>
/// <param name="AuxK">The AuxK loss with its coefficient (<c>loss/auxk</c>).</param>
/// <param name="Fvu">FVU per layer (<c>train/fvu/layer_i</c>). // [L]</param>
/// <param name="L0">Latents above dead_threshold per token, per layer. // [L]</param>
/// <param name="L1">Σ |TopK value| per token, per layer (<c>train/l1/layer_i</c>). // [L]</param>
/// <param name="LayerMse">Mean squared reconstruction error per layer, raw space (<c>train/mse/layer_i</c>). // [L]</param>
/// <param name="DeadAbs">Fraction of latents under the dead mask after this call (<c>train/dead/abs</c>).</param>
/// <param name="DeadRel">The reference's <c>DeadLatents</c> on this batch alone: latents selected fewer than
/// B·T / dead_tokens_threshold times at any layer (<c>train/dead/rel</c>).</param>
public sealed record BatchMetrics(double Loss, double Mse, double AuxK, double[] Fvu, double[] L0, double[] L1, double[] LayerMse,
    double DeadAbs, double DeadRel);

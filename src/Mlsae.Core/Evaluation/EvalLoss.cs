namespace Mlsae.Evaluation;

/// <summary>The training loss on evaluation batches, as the reference's test step logs it, each
/// term the mean of its per-batch values.</summary>
/// <param name="Total">The reference's <c>loss/total</c>: <paramref name="Mse"/> + <paramref name="AuxK"/>.</param>
/// <param name="Mse">The reference's <c>loss/mse</c>: the mean over layers of FVU.</param>
/// <param name="AuxK">The reference's <c>loss/auxk</c>: the AuxK loss with its coefficient, over the
/// latents dead under the coder's counters as loaded (evaluation never advances them).</param>
public sealed record EvalLoss(double Total, double Mse, double AuxK);

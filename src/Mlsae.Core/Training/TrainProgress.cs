namespace Mlsae.Training;

/// <summary>Where a run stands after an optimizer step, for progress bars.</summary>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="TotalSteps">Optimizer steps planned.</param>
/// <param name="Tokens">Tokens trained on.</param>
/// <param name="TotalTokens">Tokens planned.</param>
/// <param name="Loss">Mean total loss over the step's batches.</param>
/// <param name="Fvu">Mean FVU over layers and the step's batches.</param>
/// <param name="DeadFraction">Fraction of latents dead at the step's last batch.</param>
public sealed record TrainProgress(long Step, long TotalSteps, long Tokens, long TotalTokens, double Loss, double Fvu, double DeadFraction);

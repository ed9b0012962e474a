namespace Mlsae.Training;

/// <summary>The loss became NaN or infinite; the run folder keeps its last good checkpoint.</summary>
public sealed class TrainingDivergedException(string message) : MlsaeException(message);

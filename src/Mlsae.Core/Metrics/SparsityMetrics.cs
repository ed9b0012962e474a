using static TorchSharp.torch;

namespace Mlsae.Metrics;

/// <summary>The reference's <c>LayerwiseL1Norm</c>, <c>LayerwiseL0Norm</c> and <c>DeadLatents</c> for one batch.</summary>
public static class SparsityMetrics
{
    /// <summary>Σ |v| over TopK values per token. // [L, B, T, K] → [L]</summary>
    public static Tensor L1(Tensor values) => values.abs().sum([1, 2, 3]) / (values.shape[1] * values.shape[2]);

    /// <summary>Count of values above <paramref name="threshold"/> per token. // [L, B, T, K] → [L]</summary>
    public static Tensor L0(Tensor values, double threshold = 1e-3) =>
        (values > threshold).sum([1, 2, 3], type: ScalarType.Float32) / (values.shape[1] * values.shape[2]);

    /// <summary>How often each latent was selected at any layer. // [L, B, T, K] → [F] int64</summary>
    public static Tensor Selections(Tensor indices, long nLatents) => bincount(indices.reshape(-1), minlength: nLatents);

    /// <summary>The reference's DeadLatents estimate: latents selected fewer than
    /// <c>tokens / dead_tokens_threshold</c> times. // [F] → []</summary>
    public static double DeadFraction(Tensor selections, long tokens, double deadTokensThreshold) =>
        DeadFraction((IReadOnlyList<long>)selections.to(ScalarType.Int64).cpu().data<long>().ToArray(), tokens, deadTokensThreshold);

    /// <summary>The same from selection counts accumulated on the host. // [F]</summary>
    public static double DeadFraction(IReadOnlyList<long> selections, long tokens, double deadTokensThreshold) =>
        selections.Count(c => c < tokens / deadTokensThreshold) / (double)selections.Count;
}

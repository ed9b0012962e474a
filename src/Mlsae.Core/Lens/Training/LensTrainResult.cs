using System.Text.Json.Serialization;

namespace Mlsae.Lens.Training;

/// <summary>What a tuned-lens training run measured (<c>train_lens.json</c>): per translator
/// i = 0..L−1 (HF <c>hidden_states[i]</c>; 0 the embeddings), the held-out KL divergence from the
/// model's final next-token distribution to the lens's, with the identity translators (the logit
/// lens) and with the trained ones, in nats per token.</summary>
public sealed record LensTrainResult
{
    /// <summary>The model as named.</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>Optimizer steps taken.</summary>
    [JsonPropertyName("steps")] public required long Steps { get; init; }
    /// <summary>Tokens trained on.</summary>
    [JsonPropertyName("tokens")] public required long Tokens { get; init; }
    /// <summary>Held-out tokens the KL is averaged over.</summary>
    [JsonPropertyName("heldout_tokens")] public required long HeldOutTokens { get; init; }
    /// <summary>KL with identity translators, per hidden state.</summary>
    [JsonPropertyName("kl_identity")] public required double[] KlIdentity { get; init; }
    /// <summary>KL with the trained translators, per hidden state.</summary>
    [JsonPropertyName("kl_lens")] public required double[] KlLens { get; init; }
    /// <summary>Mean of <see cref="KlIdentity"/>.</summary>
    [JsonPropertyName("kl_identity_mean")] public double KlIdentityMean => KlIdentity.Average();
    /// <summary>Mean of <see cref="KlLens"/>.</summary>
    [JsonPropertyName("kl_lens_mean")] public double KlLensMean => KlLens.Average();
}

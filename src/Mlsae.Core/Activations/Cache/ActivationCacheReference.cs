using System.Text.Json.Serialization;

namespace Mlsae.Activations.Cache;

/// <summary>What a run records of the activation cache it read (run.json's <c>activations</c>): the
/// folder's full path and the SHA-256 of its index, so that a resume reopens the same cache and a
/// cache that changed since is refused.</summary>
public sealed record ActivationCacheReference
{
    /// <summary>The cache folder (full path).</summary>
    [JsonPropertyName("path")] public required string Path { get; init; }
    /// <summary>SHA-256 of its <c>index.json</c>.</summary>
    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Path} (index sha256 {Sha256[..Math.Min(12, Sha256.Length)]})";
}

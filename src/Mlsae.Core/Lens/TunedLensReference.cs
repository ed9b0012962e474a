using System.Text.Json.Serialization;

namespace Mlsae.Lens;

/// <summary>
/// Which tuned lens a run or an evaluation used, as <c>run.json</c> and <c>eval.json</c> record it
/// under <c>tuned_lens</c>: enough to find the same lens again and to know it is the same.
/// </summary>
public sealed record TunedLensReference
{
    /// <summary>What was asked for, resolved: a lens folder, a lens id of the tuned-lens Space
    /// (<c>EleutherAI/pythia-70m-deduped</c>), or <c>embedded</c>.</summary>
    [JsonPropertyName("source")] public required string Source { get; init; }
    /// <summary>The Space commit a hub lens was read at; null for a folder or the embedded lens.</summary>
    [JsonPropertyName("revision")] public string? Revision { get; init; }
    /// <summary>SHA-256 of the lens's config.json bytes followed by its params file's bytes.</summary>
    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }

    /// <summary>One line for messages: the source, and the revision when there is one.</summary>
    public override string ToString() => Revision is null ? Source : $"{Source}@{Revision[..Math.Min(12, Revision.Length)]}";
}

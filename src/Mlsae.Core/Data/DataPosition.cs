using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlsae.Data;

/// <summary>
/// Where a sequence stream stands, so that a resumed run continues it without reading, tokenizing
/// or packing what it had consumed: the start of the current map batch of documents (the
/// reference packs 1024 documents at a time and nothing carries over between batches), how many
/// of that batch's sequences were already consumed, and the index of the next sequence in the
/// whole stream (which decides its shard). Resuming re-tokenizes at most one map batch.
/// </summary>
public sealed record DataPosition
{
    /// <summary>First document of the current map batch (pre-tokenized input: the next line).</summary>
    [JsonPropertyName("document")] public DocumentCursor Document { get; init; }
    /// <summary>Sequences of that map batch already consumed.</summary>
    [JsonPropertyName("skip")] public int Skip { get; init; }
    /// <summary>Index of the next sequence in the unsharded stream.</summary>
    [JsonPropertyName("sequence")] public long Sequence { get; init; }

    /// <summary>The stream's start.</summary>
    public static DataPosition Start { get; } = new();

    static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The position as one line of JSON (kept in a training state's metadata).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses <see cref="ToJson"/>'s text; <paramref name="where"/> names its file in errors.</summary>
    public static DataPosition FromJson(string json, string where)
    {
        try
        {
            var position = JsonSerializer.Deserialize<DataPosition>(json, Json) ?? throw new MlsaeException($"{where}: empty data position");
            if (position.Skip < 0 || position.Sequence < 0 || position.Document.File < 0 || position.Document.Offset < 0 || position.Document.Line < 0)
                throw new MlsaeException($"{where}: data position has a negative field ({json})");
            return position;
        }
        catch (JsonException e) { throw MlsaeException.From($"{where}: not a valid data position", e); }
    }
}

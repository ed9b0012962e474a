using System.Text.Json.Serialization;

namespace Mlsae.Data;

/// <summary>
/// Where one document starts in a source, exactly enough to open the source there without reading
/// what comes before: the file's index in the source's file list, and within it the byte offset of
/// the record (of the decompressed stream for <c>.jsonl.zst</c>), the row for Parquet, or the
/// document index for the synthetic corpus.
/// </summary>
public readonly record struct DocumentCursor
{
    /// <summary>Index of the file in the source's (ordinal-sorted) file list.</summary>
    [JsonPropertyName("file")] public int File { get; init; }
    /// <summary>Name of that file (its path, or its repo path for a hub dataset): a resumed run
    /// checks it, so a source whose files changed is an error rather than a silent shift.</summary>
    [JsonPropertyName("file_name")] public string? FileName { get; init; }
    /// <summary>Byte offset of the record in the (decompressed) file; the row for Parquet; the
    /// document index for the synthetic corpus; 0 for a <c>.txt</c> file (one document).</summary>
    [JsonPropertyName("offset")] public long Offset { get; init; }
    /// <summary>Lines of the file before <see cref="Offset"/>, so errors keep naming the right line.</summary>
    [JsonPropertyName("line")] public long Line { get; init; }
}

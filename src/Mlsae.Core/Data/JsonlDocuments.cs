using System.Text.Json;

namespace Mlsae.Data;

/// <summary>Documents from JSONL, plain or zstd-compressed (the Pile's <c>.jsonl.zst</c> shards).
/// A compressed file is checked to its end before any document is used, so a corrupt frame
/// never leaves half a file in the training stream.</summary>
static class JsonlDocuments
{
    /// <summary>The documents of <paramref name="file"/> from <paramref name="start"/> (a line
    /// start; its <see cref="DocumentCursor.File"/> and name are the caller's).</summary>
    public static IEnumerable<Document> Read(string file, DocumentOptions options, DataReport? report, DocumentCursor start)
    {
        bool zstd = file.EndsWith(".zst", StringComparison.Ordinal);
        if (zstd) Verify(file);
        using var raw = File.OpenRead(file);
        using var stream = zstd ? new ZstdSharp.DecompressionStream(raw) : (Stream)raw;
        long lineNumber = start.Line;
        foreach (var line in ByteLines.Read(stream, start.Offset, file, zstd ? "corrupt zstd stream" : "read error", start.Line, options.MaxDocumentBytes, options.TooLarge))
        {
            lineNumber++;
            string where = $"{file}:{lineNumber}";
            var text = Utf8Text.Decode(line.Bytes, where, options, report);
            if (string.IsNullOrWhiteSpace(text)) continue;
            var doc = Parse(text, options.TextField, out var problem);
            if (doc is not null)
            {
                yield return new Document(doc, start with { Offset = line.Start, Line = lineNumber - 1 });
                continue;
            }
            if (!options.SkipBadLines) throw new MlsaeException($"{where}: {problem} (use --skip-bad-lines to skip such lines)");
            if (report is not null) report.SkippedLines++;
        }
    }

    static string? Parse(string line, string field, out string problem)
    {
        problem = "";
        try
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(field, out var v)
                && v.ValueKind == JsonValueKind.String)
                return v.GetString();
            problem = $"no string field \"{field}\" (set --text-field)";
            return null;
        }
        catch (JsonException e)
        {
            problem = $"malformed JSON ({e.Message.Split('\n')[0]})";
            return null;
        }
        catch (InvalidOperationException e)   // a lone surrogate escape (\ud800): not text a tokenizer can take
        {
            problem = $"the text is not valid Unicode ({e.Message.Split('\n')[0]})";
            return null;
        }
    }

    /// <summary>Decompresses the whole file without keeping it, so corruption anywhere is found first.</summary>
    static void Verify(string file)
    {
        using var raw = File.OpenRead(file);
        using var stream = new ZstdSharp.DecompressionStream(raw);
        var buffer = new byte[1 << 20];
        try { while (stream.Read(buffer) > 0) { } }
        catch (Exception e) when (e is ZstdSharp.ZstdException or IOException or InvalidDataException)
        {
            throw new MlsaeException($"{file}: corrupt zstd stream ({e.Message}); nothing from this file was used");
        }
    }
}

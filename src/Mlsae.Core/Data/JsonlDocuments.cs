using System.Text.Json;

namespace Mlsae.Data;

/// <summary>Documents from JSONL, plain or zstd-compressed (the Pile's <c>.jsonl.zst</c> shards).
/// A compressed file is checked to its end before any document is used, so a corrupt frame
/// never leaves half a file in the training stream.</summary>
static class JsonlDocuments
{
    public static IEnumerable<string> Read(string file, DocumentOptions options, DataReport? report)
    {
        bool zstd = file.EndsWith(".zst", StringComparison.Ordinal);
        if (zstd) Verify(file);
        using var raw = File.OpenRead(file);
        using var stream = zstd ? new ZstdSharp.DecompressionStream(raw) : (Stream)raw;
        int lineNumber = 0;
        foreach (var line in ByteLines(stream, file))
        {
            lineNumber++;
            string where = $"{file}:{lineNumber}";
            var text = Utf8Text.Decode(line, where, options, report);
            if (string.IsNullOrWhiteSpace(text)) continue;
            var doc = Parse(text, where, options.TextField, out var problem);
            if (doc is not null) { yield return doc; continue; }
            if (!options.SkipBadLines) throw new MlsaeException($"{where}: {problem} (use --skip-bad-lines to skip such lines)");
            if (report is not null) report.SkippedLines++;
        }
    }

    static string? Parse(string line, string where, string field, out string problem)
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

    static IEnumerable<byte[]> ByteLines(Stream stream, string file)
    {
        var buffer = new byte[1 << 16];
        var line = new MemoryStream();
        while (true)
        {
            int n;
            try { n = stream.Read(buffer); }
            catch (Exception e) when (e is ZstdSharp.ZstdException or IOException or InvalidDataException)
            {
                throw new MlsaeException($"{file}: corrupt zstd stream ({e.Message})");
            }
            if (n == 0) break;
            int start = 0;
            for (int i = 0; i < n; i++)
                if (buffer[i] == (byte)'\n')
                {
                    line.Write(buffer, start, i - start);
                    yield return line.ToArray();
                    line.SetLength(0);
                    start = i + 1;
                }
            line.Write(buffer, start, n - start);
        }
        if (line.Length > 0) yield return line.ToArray();
    }
}

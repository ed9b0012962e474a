using System.Text;
using System.Text.Json;

namespace Mlsae.Data;

/// <summary>
/// Streams documents from local text sources: <c>.txt</c> (one document per file), JSONL with a
/// text field, <c>.jsonl.zst</c> (streamed zstd, as the Pile's shards), and folders or globs of
/// these (files in ordinal order). Malformed lines and invalid UTF-8 are errors naming file:line.
/// </summary>
public static class TextDocuments
{
    /// <summary>The files a source names: a file, a folder (recursively, supported extensions), or a glob in the last path part.</summary>
    public static List<string> Files(string source)
    {
        if (File.Exists(source)) return [source];
        if (Directory.Exists(source))
            return Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(IsSupported).Order(StringComparer.Ordinal).ToList();
        var dir = Path.GetDirectoryName(source);
        var pattern = Path.GetFileName(source);
        if (pattern.IndexOfAny(['*', '?']) >= 0 && Directory.Exists(string.IsNullOrEmpty(dir) ? "." : dir))
        {
            var files = Directory.EnumerateFiles(string.IsNullOrEmpty(dir) ? "." : dir, pattern).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new MlsaeException($"--data: no files match '{source}'");
            return files;
        }
        throw new MlsaeException($"--data: '{source}' is not a file, folder or glob that exists");
    }

    static bool IsSupported(string path) =>
        path.EndsWith(".txt", StringComparison.Ordinal) || path.EndsWith(".jsonl", StringComparison.Ordinal)
        || path.EndsWith(".jsonl.zst", StringComparison.Ordinal);

    /// <summary>Streams the documents of <paramref name="source"/> in order.</summary>
    public static IEnumerable<string> Read(string source, string textField = "text")
    {
        foreach (var file in Files(source))
        {
            if (file.EndsWith(".txt", StringComparison.Ordinal))
            {
                yield return Decode(File.ReadAllBytes(file), file);
                continue;
            }
            if (!file.EndsWith(".jsonl", StringComparison.Ordinal) && !file.EndsWith(".jsonl.zst", StringComparison.Ordinal))
                throw new MlsaeException($"{file}: unsupported data file (expected .txt, .jsonl or .jsonl.zst)");
            foreach (var doc in JsonLines(file, textField)) yield return doc;
        }
    }

    static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    static string Decode(byte[] bytes, string where)
    {
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { throw new MlsaeException($"{where}: invalid UTF-8"); }
    }

    static IEnumerable<string> JsonLines(string file, string textField)
    {
        using var raw = File.OpenRead(file);
        using var stream = file.EndsWith(".zst", StringComparison.Ordinal) ? new ZstdSharp.DecompressionStream(raw) : (Stream)raw;
        int lineNumber = 0;
        foreach (var line in ByteLines(stream, file))
        {
            lineNumber++;
            string where = $"{file}:{lineNumber}";
            var text = Decode(line, where);
            if (string.IsNullOrWhiteSpace(text)) continue;
            string? doc;
            try
            {
                using var json = JsonDocument.Parse(text);
                doc = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(textField, out var v)
                    && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            }
            catch (JsonException e) { throw MlsaeException.From($"{where}: malformed JSON", e); }
            yield return doc ?? throw new MlsaeException($"{where}: no string field \"{textField}\" (set --text-field)");
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

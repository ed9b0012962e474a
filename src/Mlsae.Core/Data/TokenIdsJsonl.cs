using System.Text;
using System.Text.Json;

namespace Mlsae.Data;

/// <summary>Pre-tokenized input: JSONL with one sequence per line as <c>{"input_ids": [..]}</c>.</summary>
public static class TokenIdsJsonl
{
    /// <summary>Reads every sequence; blank lines are skipped. Malformed lines, non-integer ids and
    /// (when <paramref name="sameLength"/>) lines of a different length are errors naming file:line.</summary>
    public static List<long[]> Read(string path, bool sameLength = true)
    {
        var sequences = Stream(path, sameLength).ToList();
        if (sequences.Count == 0) throw new MlsaeException($"{path}: no sequences (the file is empty)");
        return sequences;
    }

    /// <summary>Streams the sequences with the checks of <see cref="Read"/>.</summary>
    public static IEnumerable<long[]> Stream(string path, bool sameLength = true) => Sequences(path, sameLength, default).Select(s => s.Ids);

    /// <summary>Streams the sequences from the line at <paramref name="start"/>, each with the cursor of the line after it.</summary>
    public static IEnumerable<(long[] Ids, DocumentCursor Next)> Sequences(string path, bool sameLength, DocumentCursor start)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        using var stream = File.OpenRead(path);
        long lineNumber = start.Line;
        int length = -1;
        foreach (var line in ByteLines.Read(stream, start.Offset, path, "read error", start.Line, DocumentOptions.DefaultMaxDocumentBytes))
        {
            lineNumber++;
            var bytes = line.Start == 0 && line.Bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? line.Bytes[3..] : line.Bytes;
            var text = Encoding.UTF8.GetString(bytes);
            if (string.IsNullOrWhiteSpace(text)) continue;
            var ids = Parse(text, $"{path}:{lineNumber}");
            if (sameLength && length >= 0 && ids.Length != length)
                throw new MlsaeException($"{path}:{lineNumber}: sequence has {ids.Length} tokens but earlier lines have {length}; all sequences must have the same length");
            length = ids.Length;
            yield return (ids, start with { Offset = line.Next, Line = lineNumber });
        }
    }

    /// <summary>Whether a local file is pre-tokenized JSONL: a <c>.jsonl</c> whose first record has <c>input_ids</c>.</summary>
    public static bool Looks(string path)
    {
        if (!path.EndsWith(".jsonl", StringComparison.Ordinal) || !File.Exists(path)) return false;
        var first = File.ReadLines(path).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l));
        if (first is null) return false;
        try
        {
            using var doc = JsonDocument.Parse(first);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("input_ids", out _);
        }
        catch (JsonException) { return false; }
    }

    static long[] Parse(string line, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("input_ids", out var arr) || arr.ValueKind != JsonValueKind.Array)
                throw new MlsaeException($"{where}: expected an object with an \"input_ids\" array");
            var ids = new long[arr.GetArrayLength()];
            int i = 0;
            foreach (var v in arr.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out ids[i]) || ids[i] < 0)
                    throw new MlsaeException($"{where}: input_ids[{i}] is not a non-negative integer");
                i++;
            }
            if (ids.Length == 0) throw new MlsaeException($"{where}: empty input_ids");
            return ids;
        }
        catch (JsonException e) { throw MlsaeException.From($"{where}: malformed JSON", e); }
    }
}

using System.Text.Json;

namespace Mlsae.Data;

/// <summary>Pre-tokenized input: JSONL with one sequence per line as <c>{"input_ids": [..]}</c>.</summary>
public static class TokenIdsJsonl
{
    /// <summary>Reads every sequence; blank lines are skipped. Malformed lines, non-integer ids and
    /// (when <paramref name="sameLength"/>) lines of a different length are errors naming file:line.</summary>
    public static List<long[]> Read(string path, bool sameLength = true)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        var sequences = new List<long[]>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            long[] ids;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind != JsonValueKind.Object
                    || !doc.RootElement.TryGetProperty("input_ids", out var arr) || arr.ValueKind != JsonValueKind.Array)
                    throw new MlsaeException($"{path}:{lineNumber}: expected an object with an \"input_ids\" array");
                ids = new long[arr.GetArrayLength()];
                int i = 0;
                foreach (var v in arr.EnumerateArray())
                {
                    if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out ids[i]) || ids[i] < 0)
                        throw new MlsaeException($"{path}:{lineNumber}: input_ids[{i}] is not a non-negative integer");
                    i++;
                }
            }
            catch (JsonException e) { throw MlsaeException.From($"{path}:{lineNumber}: malformed JSON", e); }
            if (ids.Length == 0) throw new MlsaeException($"{path}:{lineNumber}: empty input_ids");
            if (sameLength && sequences.Count > 0 && ids.Length != sequences[0].Length)
                throw new MlsaeException($"{path}:{lineNumber}: sequence has {ids.Length} tokens but earlier lines have {sequences[0].Length}; all sequences must have the same length");
            sequences.Add(ids);
        }
        if (sequences.Count == 0) throw new MlsaeException($"{path}: no sequences (the file is empty)");
        return sequences;
    }
}

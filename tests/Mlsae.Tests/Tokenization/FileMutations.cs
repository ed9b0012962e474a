using System.Text.Json.Nodes;
using CsCheck;
using Xunit;

namespace Mlsae.Tests.Tokenization;

/// <summary>Generators of damaged copies of a JSON file, for property tests of parsers: byte edits
/// (replace, insert, delete, truncate) biased towards JSON punctuation, and value edits that put a
/// value of another type (or none) at a field.</summary>
public static class FileMutations
{
    static readonly byte[] Punctuation = "{}[]\",:-.eE0123456789 \\ntrufalsn"u8.ToArray();

    /// <summary>One to four byte edits of <paramref name="original"/>.</summary>
    public static Gen<byte[]> Bytes(byte[] original) =>
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, original.Length - 1], Gen.Bool, Gen.Byte, Gen.Int[0, Punctuation.Length - 1],
                (kind, pos, punct, any, p) => (kind, pos, value: punct ? Punctuation[p] : any))
            .Array[1, 4]
            .Select(edits =>
            {
                var bytes = new List<byte>(original);
                foreach (var (kind, pos, value) in edits)
                {
                    int at = Math.Min(pos, Math.Max(0, bytes.Count - 1));
                    switch (kind)
                    {
                        case 0: if (bytes.Count > 0) bytes[at] = value; break;
                        case 1: bytes.Insert(at, value); break;
                        case 2: if (bytes.Count > 0) bytes.RemoveAt(at); break;
                        default: bytes.RemoveRange(at, bytes.Count - at); break;
                    }
                }
                return bytes.ToArray();
            });

    /// <summary>Replacement values: every JSON kind, and the numbers parsers get wrong (negative,
    /// fractional, huge, infinite after parsing). Null stands for removing the field.</summary>
    public static readonly string?[] Replacements =
    [
        null, "null", "true", "false", "0", "1", "-1", "3", "1.5", "0.5", "2147483647", "-2147483648", "9223372036854775808",
        "1e400", "1e-400", "10000000", "\"\"", "\"x\"", "\"64\"", LoneSurrogateMarker, "[]", "{}", "[1]", "[\"a\", 1]", "{\"type\": \"NFC\"}",
    ];

    // A lone surrogate escape cannot pass through a JsonNode tree; it is spliced into the text after.
    const string LoneSurrogateMarker = "\"@lone surrogate@\"";

    /// <summary>One to three value edits at <paramref name="paths"/> of <paramref name="original"/>:
    /// the JSON text and the edits, for the failure report. Paths an earlier edit removed are skipped.</summary>
    public static Gen<(string Text, string Edits)> Values(JsonNode original, IReadOnlyList<string> paths) =>
        Gen.Select(Gen.Int[0, paths.Count - 1], Gen.Int[0, Replacements.Length - 1]).Array[1, 3].Select(edits =>
        {
            var root = original.DeepClone();
            foreach (var (p, v) in edits)
            {
                try { JsonEdit.Apply(root, paths[p], Replacements[v]); }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or NullReferenceException) { }
            }
            return (root.ToJsonString().Replace(LoneSurrogateMarker, "\"\\ud800\""), string.Join("; ", edits.Select(e => $"{paths[e.Item1]} = {Replacements[e.Item2] ?? "(removed)"}")));
        });

    /// <summary>The paths of every field and element of <paramref name="node"/>, keeping only the first
    /// <paramref name="perContainer"/> children of containers of more than 32 (a vocab, the merges).</summary>
    public static List<string> Paths(JsonNode node, int perContainer = 8)
    {
        var paths = new List<string>();
        void Walk(JsonNode? n, string prefix)
        {
            IEnumerable<(string Key, JsonNode? Child)> children = n switch
            {
                JsonObject o => o.Select(p => (p.Key, p.Value)),
                JsonArray a => a.Select((c, i) => (i.ToString(), c)),
                _ => [],
            };
            var list = children.Where(c => !c.Key.Contains('/')).ToList();
            foreach (var (key, child) in list.Count > 32 ? list.Take(perContainer) : list)
            {
                var path = prefix.Length == 0 ? key : $"{prefix}/{key}";
                paths.Add(path);
                Walk(child, path);
            }
        }
        Walk(node, "");
        return paths;
    }

    /// <summary>Runs <paramref name="assert"/> on <paramref name="iter"/> inputs drawn from a fixed
    /// <paramref name="seed"/>: the same inputs on every run, so the suite cannot flake (the fuzz
    /// harness in bench/ explores further). A failure names the input's index.</summary>
    public static void SampleFixed<T>(this Gen<T> gen, Action<T> assert, int iter, ulong seed)
    {
        var pcg = new PCG(1, seed);
        for (int i = 0; i < iter; i++)
        {
            var input = gen.Generate(pcg, null!, out _);
            try { assert(input); }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException) { throw new InvalidOperationException($"input {i} of seed {seed}", e); }
            catch (Xunit.Sdk.XunitException e) { Assert.Fail($"input {i} of seed {seed}: {e.Message}"); }
        }
    }

    /// <summary>Runs <paramref name="load"/> and passes when it succeeds or throws an
    /// <see cref="MlsaeException"/> of one line; any other exception fails, showing the input.</summary>
    public static void LoadsOrFailsCleanly(Action load, Func<string> input)
    {
        try { load(); }
        catch (MlsaeException e)
        {
            Assert.False(e.Message.Contains('\n'), $"multi-line error: {e.Message}");
        }
        catch (Exception e)
        {
            Assert.Fail($"{e.GetType().Name}: {e.Message}\ninput: {input()}\n{e.StackTrace}");
        }
    }
}

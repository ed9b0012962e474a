using System.Text;
using System.Text.Json.Nodes;
using Mlsae.IO;

namespace Mlsae.Tokenization;

/// <summary>
/// Trains a byte-level BPE the way HF tokenizers' BpeTrainer does for GPT-2-style files: NFC, the
/// GPT-2 split pattern, words as byte-level symbols, then repeatedly merge the most frequent
/// adjacent pair (ties: the pair whose merged string sorts first, ordinal). The result is saved
/// with exactly the structure of GPT-NeoX's <c>tokenizer.json</c> (<c>&lt;|endoftext|&gt;</c> = 0 as
/// bos/eos/unk, <c>&lt;|padding|&gt;</c> = 1, then the 256 byte symbols, then the merges).
/// </summary>
public static class BpeTrainer
{
    /// <summary>The special tokens, in id order.</summary>
    public static readonly string[] SpecialTokens = ["<|endoftext|>", "<|padding|>"];

    /// <summary>A trained vocabulary and merge list.</summary>
    public sealed record Result(IReadOnlyList<string> Vocab, IReadOnlyList<(string Left, string Right)> Merges);

    /// <summary>Learns merges until the vocabulary (specials + 256 bytes + merges) has <paramref name="vocabSize"/> entries
    /// or no pair occurs at least <paramref name="minFrequency"/> times.</summary>
    public static Result Train(IEnumerable<string> documents, int vocabSize, int minFrequency = 2)
    {
        int baseSize = SpecialTokens.Length + 256;
        if (vocabSize < baseSize) throw new MlsaeException($"--vocab-size must be at least {baseSize}, got {vocabSize}");
        var counts = CountWords(documents);
        var vocab = new List<string>(SpecialTokens);
        vocab.AddRange(ByteLevelAlphabet.ByteToChar.Select(c => c.ToString()));
        var ids = vocab.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);
        var words = counts.Select(kv => (Symbols: kv.Key.Select(c => ids[c.ToString()]).ToList(), Count: kv.Value)).ToList();
        var merges = new List<(string, string)>();
        while (vocab.Count < vocabSize)
        {
            var pairs = new Dictionary<(int, int), long>();
            foreach (var (symbols, count) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (pairs.Count == 0) break;
            var best = pairs.MaxBy(p => p.Value).Value;
            if (best < minFrequency) break;
            var pair = pairs.Where(p => p.Value == best).Select(p => p.Key)
                .MinBy(p => vocab[p.Item1] + vocab[p.Item2], StringComparer.Ordinal);
            var merged = vocab[pair.Item1] + vocab[pair.Item2];
            if (ids.ContainsKey(merged)) throw new InvalidOperationException($"BPE produced '{merged}' twice");
            int id = vocab.Count;
            vocab.Add(merged);
            ids[merged] = id;
            merges.Add((vocab[pair.Item1], vocab[pair.Item2]));
            foreach (var (symbols, _) in words)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == pair.Item1 && symbols[i + 1] == pair.Item2)
                    {
                        symbols[i] = id;
                        symbols.RemoveAt(i + 1);
                    }
        }
        return new Result(vocab, merges);
    }

    static Dictionary<string, long> CountWords(IEnumerable<string> documents)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var symbols = new StringBuilder();
        foreach (var document in documents)
        {
            var text = document.Normalize(NormalizationForm.FormC);
            ByteLevelSplitter.Split(text, (start, length) =>
            {
                symbols.Clear();
                ByteLevelAlphabet.Encode(text.AsSpan(start, length), symbols);
                var word = symbols.ToString();
                counts[word] = counts.GetValueOrDefault(word) + 1;
            });
        }
        if (counts.Count == 0) throw new MlsaeException("train-tokenizer: the corpus holds no text");
        return counts;
    }

    /// <summary>Writes <c>tokenizer.json</c>, <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> (each atomically).</summary>
    public static void Save(Result result, string folder, string name, int modelMaxLength)
    {
        Directory.CreateDirectory(folder);
        static JsonObject ByteLevel() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var vocab = new JsonObject();
        for (int i = 0; i < result.Vocab.Count; i++) vocab[result.Vocab[i]] = i;
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(SpecialTokens.Select((t, i) => (JsonNode)new JsonObject
            {
                ["id"] = i, ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            }).ToArray()),
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = ByteLevel(),
            ["post_processor"] = ByteLevel(),
            ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false, ["vocab"] = vocab,
                ["merges"] = new JsonArray(result.Merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right)).ToArray()),
            },
        };
        AtomicFile.WriteText(Path.Combine(folder, "tokenizer.json"), json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteText(Path.Combine(folder, "tokenizer_config.json"), new JsonObject
        {
            ["add_prefix_space"] = false, ["bos_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>",
            ["pad_token"] = "<|padding|>", ["model_max_length"] = modelMaxLength, ["name_or_path"] = name, ["tokenizer_class"] = "GPTNeoXTokenizer",
        }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteText(Path.Combine(folder, "special_tokens_map.json"), new JsonObject
        {
            ["bos_token"] = "<|endoftext|>", ["eos_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>", ["pad_token"] = "<|padding|>",
        }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}

using Mlsae.Tokenization;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>
/// The bos/eos/pad token ids whose residual-stream vectors the reference zeroes after the forward
/// pass (<c>Transformer._mask_special_tokens</c>). The ids come from the tokenizer files in the
/// model folder when present (as the reference takes them from the tokenizer), else from config.json.
/// </summary>
public sealed record SpecialTokens(IReadOnlyList<long> Ids)
{
    /// <summary>Resolves the ids for a model folder (null for a model built in memory: the config's ids).</summary>
    public static SpecialTokens ForModel(string? folder, ILanguageModelConfig config)
    {
        var fromTokenizer = folder is null ? null : FromTokenizerFiles(folder);
        if (fromTokenizer is not null) return fromTokenizer;
        var ids = new[] { config.BosTokenId, config.EosTokenId, config.PadTokenId }
            .Where(i => i is not null).Select(i => i!.Value).Distinct().ToArray();
        return new SpecialTokens(ids);
    }

    // The tokenizer files, shape-checked by the tokenizer's own readers: a malformed one is an
    // MlsaeException naming the file and the field, never a stack trace.
    static SpecialTokens? FromTokenizerFiles(string folder)
    {
        var tokenizerPath = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(tokenizerPath)) return null;
        var names = new Dictionary<string, string>();
        // special_tokens_map.json is read last, so it wins, as in transformers.
        foreach (var file in new[] { "tokenizer_config.json", "special_tokens_map.json" })
        {
            if (TokenizerConfigJson.Read(Path.Combine(folder, file)) is not { } config) continue;
            foreach (var key in new[] { "bos_token", "eos_token", "pad_token" })
                if (config.Tokens.TryGetValue(key, out var content))
                {
                    if (content is null) names.Remove(key);
                    else names[key] = content;
                }
        }
        if (names.Count == 0) return null;
        var (vocab, added) = TokenizerJson.ReadTokens(tokenizerPath);
        var ids = new List<long>();
        foreach (var content in names.Values.Distinct())
        {
            long? id = added.FirstOrDefault(a => a.Content == content)?.Id ?? (vocab.TryGetValue(content, out int vid) ? vid : null);
            if (id is long found && !ids.Contains(found)) ids.Add(found);
        }
        return new SpecialTokens(ids);
    }

    /// <summary>Zeroes, in every layer, the vectors at positions holding a special token.
    /// <paramref name="hidden"/> is <c>[L, B, T, D]</c>, <paramref name="tokens"/> <c>[B, T]</c>;
    /// returns a new tensor.</summary>
    public Tensor Zero(Tensor hidden, Tensor tokens)
    {
        if (Ids.Count == 0) return hidden.alias();
        using var scope = NewDisposeScope();
        var ids = tensor(Ids.ToArray(), device: tokens.device);
        var mask = tokens.isin(ids).unsqueeze(0).unsqueeze(-1).to(hidden.device);   // [1, B, T, 1]
        return hidden.masked_fill(mask, 0.0).MoveToOuterDisposeScope();
    }
}

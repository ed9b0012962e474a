using System.Text.Json;
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

    static SpecialTokens? FromTokenizerFiles(string folder)
    {
        var tokenizerPath = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(tokenizerPath)) return null;
        var names = new Dictionary<string, string>();
        foreach (var file in new[] { "tokenizer_config.json", "special_tokens_map.json" })
        {
            var path = Path.Combine(folder, file);
            if (!File.Exists(path)) continue;
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
                foreach (var key in new[] { "bos_token", "eos_token", "pad_token" })
                    if (doc.RootElement.TryGetProperty(key, out var v))
                    {
                        var content = v.ValueKind == JsonValueKind.String ? v.GetString()
                            : v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) ? c.GetString() : null;
                        if (content is not null) names[key] = content;
                        else if (v.ValueKind == JsonValueKind.Null) names.Remove(key);
                    }
            }
            catch (JsonException e) { throw MlsaeException.From($"{path}: invalid JSON", e); }
        }
        if (names.Count == 0) return null;
        var ids = new List<long>();
        try
        {
            using var tok = JsonDocument.Parse(File.ReadAllBytes(tokenizerPath));
            foreach (var content in names.Values.Distinct())
            {
                long? id = null;
                if (tok.RootElement.TryGetProperty("added_tokens", out var added))
                    foreach (var a in added.EnumerateArray())
                        if (a.GetProperty("content").GetString() == content) { id = a.GetProperty("id").GetInt64(); break; }
                if (id is null && tok.RootElement.TryGetProperty("model", out var model)
                    && model.TryGetProperty("vocab", out var vocab) && vocab.TryGetProperty(content, out var vid))
                    id = vid.GetInt64();
                if (id is long found && !ids.Contains(found)) ids.Add(found);
            }
        }
        catch (JsonException e) { throw MlsaeException.From($"{tokenizerPath}: invalid JSON", e); }
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

using System.Text.Json;

namespace Mlsae.Tokenization;

/// <summary>
/// The fields this port reads from <c>tokenizer_config.json</c> or <c>special_tokens_map.json</c>
/// beside a tokenizer.json, shape-checked: the root is an object; a special token
/// (<c>bos_token</c>, …) is a string, null, or an AddedToken object with a string <c>content</c>;
/// <c>model_max_length</c> is a positive integer or null; <c>added_tokens_decoder</c> maps id strings
/// to AddedToken objects; <c>additional_special_tokens</c> is a list of tokens.
/// </summary>
/// <param name="Tokens">The special tokens the file names, by key: content, or null where the file sets the key to null.</param>
/// <param name="ModelMaxLength">The length limit when it is a real one (transformers writes int(1e30) for none).</param>
internal sealed record TokenizerConfigJson(IReadOnlyDictionary<string, string?> Tokens, int? ModelMaxLength)
{
    /// <summary>The special-token keys read.</summary>
    public static readonly IReadOnlyList<string> TokenKeys = ["bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token"];

    /// <summary>Reads <paramref name="path"/>, or returns null when it does not exist.</summary>
    public static TokenizerConfigJson? Read(string path)
    {
        if (!File.Exists(path)) return null;
        using var doc = JsonFields.Parse(path);
        var root = JsonFields.RootObject(doc, path);
        var at = JsonAt.Root(path);
        var tokens = new Dictionary<string, string?>();
        foreach (var key in TokenKeys)
            if (root.TryGetProperty(key, out var v))
                tokens[key] = v.ValueKind == JsonValueKind.Null ? null : Content(v, at[key]);
        if (JsonFields.OptArray(root, at, "additional_special_tokens") is { } extra)
        {
            int i = 0;
            foreach (var t in extra.EnumerateArray()) Content(t, at["additional_special_tokens"][i++]);
        }
        CheckAddedTokensDecoder(root, at);
        return new TokenizerConfigJson(tokens, ModelMaxLengthOf(root, at));
    }

    /// <summary>A token as a string or as an AddedToken object (<c>{"content": ..}</c>).</summary>
    static string Content(JsonElement v, JsonAt at) => v.ValueKind switch
    {
        JsonValueKind.String => JsonFields.String(v, at),
        JsonValueKind.Object => JsonFields.String(JsonFields.Required(v, at, "content"), at["content"]),
        _ => throw at.Wrong("a string or an object with a \"content\" string", v),
    };

    static int? ModelMaxLengthOf(JsonElement root, JsonAt at)
    {
        if (JsonFields.Get(root, "model_max_length") is not { } v) return null;
        var mAt = at["model_max_length"];
        // int(1e30) is past long, so the check is on the double.
        double d = JsonFields.Number(v, mAt);
        if (d != Math.Floor(d)) throw mAt.Wrong("an integer", v);
        if (d < 1) throw mAt.Error($"must be positive, got {JsonAt.Show(v)}");
        return d < int.MaxValue ? (int)d : null;
    }

    static void CheckAddedTokensDecoder(JsonElement root, JsonAt at)
    {
        if (JsonFields.OptObject(root, at, "added_tokens_decoder") is not { } map) return;
        var mAt = at["added_tokens_decoder"];
        foreach (var p in map.EnumerateObject())
        {
            var key = JsonFields.Name(p, mAt);
            var eAt = mAt.EntryOf(key);
            if (!int.TryParse(key, System.Globalization.NumberStyles.None, null, out _))
                throw eAt.Error("is not a token id (the keys are non-negative integers)");
            JsonFields.Object(p.Value, eAt);
            JsonFields.String(JsonFields.Required(p.Value, eAt, "content"), eAt["content"]);
            foreach (var flag in new[] { "special", "normalized", "single_word", "lstrip", "rstrip" })
                JsonFields.OptBool(p.Value, eAt, flag);
        }
    }
}

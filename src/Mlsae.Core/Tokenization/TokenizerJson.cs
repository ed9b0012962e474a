using System.Text.Json;

namespace Mlsae.Tokenization;

/// <summary>Reads the parts of an HF <c>tokenizer.json</c> this port implements (the GPT-NeoX /
/// Pythia byte-level BPE) and rejects anything else by name.</summary>
internal static class TokenizerJson
{
    public static (BpeModel Model, List<AddedToken> Added, bool Nfc) Read(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: invalid JSON", e); }
        using var _ = doc;
        var root = doc.RootElement;
        bool nfc = ReadNormalizer(path, root);
        CheckByteLevel(path, root, "pre_tokenizer", required: true);
        CheckPostProcessor(path, root);
        CheckByteLevel(path, root, "decoder", required: false);
        var model = Prop(root, "model") ?? throw new MlsaeException($"{path}: no model");
        var type = Str(model, "type");
        if (type != "BPE") throw new MlsaeException($"{path}: model type '{type}' is not supported (only BPE)");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix", "dropout" })
            if (Prop(model, key) is { ValueKind: not JsonValueKind.Null } v)
                throw new MlsaeException($"{path}: model.{key} {v.GetRawText()} is not supported");
        foreach (var key in new[] { "byte_fallback", "ignore_merges", "fuse_unk" })
            if (Prop(model, key) is { ValueKind: JsonValueKind.True })
                throw new MlsaeException($"{path}: model.{key} true is not supported");
        var vocab = new Dictionary<string, int>();
        foreach (var p in (Prop(model, "vocab") ?? throw new MlsaeException($"{path}: model has no vocab")).EnumerateObject())
            vocab[p.Name] = p.Value.GetInt32();
        var merges = new List<(string, string)>();
        foreach (var m in (Prop(model, "merges") ?? throw new MlsaeException($"{path}: model has no merges")).EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                var s = m.GetString()!;
                int space = s.IndexOf(' ', 1);
                if (space < 0) throw new MlsaeException($"{path}: merge '{s}' is not two tokens separated by a space");
                merges.Add((s[..space], s[(space + 1)..]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else throw new MlsaeException($"{path}: malformed merge {m.GetRawText()}");
        }
        var added = new List<AddedToken>();
        if (Prop(root, "added_tokens") is { ValueKind: JsonValueKind.Array } list)
            foreach (var a in list.EnumerateArray())
            {
                var content = Str(a, "content") ?? throw new MlsaeException($"{path}: added token without content");
                foreach (var flag in new[] { "single_word", "lstrip", "rstrip" })
                    if (Prop(a, flag) is { ValueKind: JsonValueKind.True })
                        throw new MlsaeException($"{path}: added token '{content}' uses {flag}, which is not supported");
                bool special = Prop(a, "special") is { ValueKind: JsonValueKind.True };
                bool normalized = Prop(a, "normalized") is { ValueKind: JsonValueKind.True or JsonValueKind.False } n ? n.GetBoolean() : !special;
                added.Add(new AddedToken(Prop(a, "id")!.Value.GetInt32(), content, special, normalized));
            }
        return (new BpeModel(vocab, merges, path), added, nfc);
    }

    static bool ReadNormalizer(string path, JsonElement root)
    {
        var n = Prop(root, "normalizer");
        if (n is null || n.Value.ValueKind == JsonValueKind.Null) return false;
        var type = Str(n.Value, "type");
        if (type == "NFC") return true;
        if (type == "Sequence" && Prop(n.Value, "normalizers") is { } seq)
        {
            var items = seq.EnumerateArray().ToList();
            if (items.Count == 0) return false;
            if (items.Count == 1 && Str(items[0], "type") == "NFC") return true;
        }
        throw new MlsaeException($"{path}: normalizer {n.Value.GetRawText()} is not supported (only NFC)");
    }

    static void CheckByteLevel(string path, JsonElement root, string key, bool required)
    {
        var e = Prop(root, key);
        if (e is null || e.Value.ValueKind == JsonValueKind.Null)
        {
            if (required) throw new MlsaeException($"{path}: {key} is missing (only ByteLevel is supported)");
            return;
        }
        if (Str(e.Value, "type") != "ByteLevel")
            throw new MlsaeException($"{path}: {key} type '{Str(e.Value, "type")}' is not supported (only ByteLevel)");
        if (key == "pre_tokenizer")
        {
            if (Prop(e.Value, "add_prefix_space") is { ValueKind: JsonValueKind.True })
                throw new MlsaeException($"{path}: pre_tokenizer.add_prefix_space true is not supported");
            if (Prop(e.Value, "use_regex") is { ValueKind: JsonValueKind.False })
                throw new MlsaeException($"{path}: pre_tokenizer.use_regex false is not supported");
        }
    }

    static void CheckPostProcessor(string path, JsonElement root)
    {
        var e = Prop(root, "post_processor");
        if (e is null || e.Value.ValueKind == JsonValueKind.Null) return;
        var type = Str(e.Value, "type");
        if (type == "ByteLevel") return;
        // Re-saved copies use a template that adds nothing: single [$A], pair [$A, $B].
        if (type == "TemplateProcessing" && Prop(e.Value, "single") is { } single
            && single.EnumerateArray().All(p => Prop(p, "Sequence") is not null))
            return;
        throw new MlsaeException($"{path}: post_processor {e.Value.GetRawText()} is not supported");
    }

    static JsonElement? Prop(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : null;

    static string? Str(JsonElement e, string name) =>
        Prop(e, name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;
}

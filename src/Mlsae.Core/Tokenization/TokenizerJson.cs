using System.Text.Json;

namespace Mlsae.Tokenization;

/// <summary>Reads the parts of an HF <c>tokenizer.json</c> this port implements (the GPT-NeoX /
/// Pythia byte-level BPE) and rejects anything else by name. Every field read is type- and
/// range-checked: a bad file is one <see cref="MlsaeException"/> naming the file and the field
/// (<c>tokenizer.json: "model.merges[3]" must be two tokens separated by a space, got ""</c>).</summary>
internal static partial class TokenizerJson
{
    /// <summary>The model, the added tokens and whether the normalizer is NFC.</summary>
    public static (BpeModel Model, List<AddedToken> Added, bool Nfc) Read(string path)
    {
        using var doc = JsonFields.Parse(path);
        var root = JsonFields.RootObject(doc, path);
        var at = JsonAt.Root(path);
        // Read by HF but ignored by transformers (it resets truncation and padding per call); only their shape is checked.
        JsonFields.OptString(root, at, "version");
        JsonFields.OptObject(root, at, "truncation");
        JsonFields.OptObject(root, at, "padding");
        bool nfc = ReadNormalizer(root, at);
        CheckByteLevel(root, at, "pre_tokenizer", required: true);
        CheckPostProcessor(root, at);
        CheckByteLevel(root, at, "decoder", required: false);
        var modelAt = at["model"];
        var model = JsonFields.Object(JsonFields.Required(root, at, "model"), modelAt);
        CheckBpeOptions(model, modelAt);
        var vocab = ReadVocab(model, modelAt);
        var merges = ReadMerges(model, modelAt);
        var added = ReadAddedTokens(root, at, vocab.Count);
        return (new BpeModel(vocab, merges, path), added, nfc);
    }

    /// <summary>Just the vocab and the added tokens, under the same checks as <see cref="Read"/>, for
    /// looking up token ids (<see cref="Models.SpecialTokens"/>) without requiring the rest to be supported.</summary>
    public static (Dictionary<string, int> Vocab, List<AddedToken> Added) ReadTokens(string path)
    {
        using var doc = JsonFields.Parse(path);
        var root = JsonFields.RootObject(doc, path);
        var at = JsonAt.Root(path);
        var vocab = JsonFields.OptObject(root, at, "model") is { } model && JsonFields.Get(model, "vocab") is not null
            ? ReadVocab(model, at["model"]) : [];
        return (vocab, ReadAddedTokens(root, at, vocab.Count));
    }

    static bool ReadNormalizer(JsonElement root, JsonAt at)
    {
        var nAt = at["normalizer"];
        if (JsonFields.OptObject(root, at, "normalizer") is not { } n) return false;
        var type = JsonFields.String(JsonFields.Required(n, nAt, "type"), nAt["type"]);
        if (type == "NFC") return true;
        if (type == "Sequence")
        {
            var seqAt = nAt["normalizers"];
            var types = new List<string>();
            foreach (var (item, itemAt) in Items(JsonFields.Required(n, nAt, "normalizers"), seqAt))
            {
                JsonFields.Object(item, itemAt);
                types.Add(JsonFields.String(JsonFields.Required(item, itemAt, "type"), itemAt["type"]));
            }
            if (types.Count == 0) return false;
            if (types is ["NFC"]) return true;
            throw new MlsaeException($"{at.File}: normalizer Sequence [{string.Join(", ", types)}] is not supported (only NFC, or nothing)");
        }
        throw new MlsaeException($"{at.File}: normalizer type '{type}' is not supported (only NFC, or a Sequence of just NFC)");
    }

    static void CheckByteLevel(JsonElement root, JsonAt at, string key, bool required)
    {
        var kAt = at[key];
        if (JsonFields.OptObject(root, at, key) is not { } e)
        {
            if (required) throw kAt.Error("is missing (only ByteLevel is supported)");
            return;
        }
        var type = JsonFields.OptString(e, kAt, "type");
        if (type is null) throw kAt["type"].Error("is missing (only ByteLevel is supported)");
        if (type != "ByteLevel") throw new MlsaeException($"{at.File}: {key} type '{type}' is not supported (only ByteLevel)");
        bool? addPrefixSpace = JsonFields.OptBool(e, kAt, "add_prefix_space");
        JsonFields.OptBool(e, kAt, "trim_offsets");
        bool? useRegex = JsonFields.OptBool(e, kAt, "use_regex");
        if (key != "pre_tokenizer") return;
        if (addPrefixSpace == true) throw kAt["add_prefix_space"].Error("true is not supported");
        if (useRegex == false) throw kAt["use_regex"].Error("false is not supported");
    }

    static void CheckPostProcessor(JsonElement root, JsonAt at)
    {
        var pAt = at["post_processor"];
        if (JsonFields.OptObject(root, at, "post_processor") is not { } e) return;
        var type = JsonFields.OptString(e, pAt, "type");
        if (type == "ByteLevel") return;
        // Re-saved copies use a template that adds nothing: single [$A], pair [$A, $B].
        if (type == "TemplateProcessing" && JsonFields.OptArray(e, pAt, "single") is { } single)
        {
            bool addsNothing = true;
            foreach (var (piece, pieceAt) in Items(single, pAt["single"]))
                addsNothing &= JsonFields.Get(JsonFields.Object(piece, pieceAt), "Sequence") is not null;
            if (addsNothing) return;
        }
        throw new MlsaeException($"{at.File}: post_processor type '{type}' is not supported (only ByteLevel, or a template that adds no tokens)");
    }

    static void CheckBpeOptions(JsonElement model, JsonAt at)
    {
        var type = JsonFields.OptString(model, at, "type");
        if (type is null) throw at["type"].Error("is missing (only BPE is supported)");
        if (type != "BPE") throw new MlsaeException($"{at.File}: model type '{type}' is not supported (only BPE)");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (JsonFields.OptString(model, at, key) is { } s)
                throw at[key].Error($"{JsonAt.Quote(s)} is not supported");
        if (JsonFields.OptNumber(model, at, "dropout") is { } dropout)
            throw at["dropout"].Error($"{dropout} is not supported");
        // No unknown-token fallback is needed: all 256 byte symbols are in a byte-level vocab.
        JsonFields.OptString(model, at, "unk_token");
        foreach (var key in new[] { "byte_fallback", "ignore_merges", "fuse_unk" })
            if (JsonFields.OptBool(model, at, key) == true)
                throw at[key].Error("true is not supported");
    }

    /// <summary>The elements of an array with their places.</summary>
    static IEnumerable<(JsonElement Item, JsonAt At)> Items(JsonElement array, JsonAt at)
    {
        int i = 0;
        foreach (var item in JsonFields.Array(array, at).EnumerateArray()) yield return (item, at[i++]);
    }
}

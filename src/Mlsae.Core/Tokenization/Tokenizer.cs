using System.Text;

namespace Mlsae.Tokenization;

/// <summary>
/// The GPT-NeoX / Pythia tokenizer from an HF <c>tokenizer.json</c>, encoding exactly as HF
/// tokenizers does: special (non-normalized) added tokens are split out of the raw text; each
/// remaining piece is NFC-normalized; normalized added tokens (GPT-NeoX's runs of spaces) are
/// split out; the rest is pre-tokenized with the GPT-2 pattern per code point, mapped to
/// byte-level characters and BPE-merged. No prefix space, no BOS/EOS.
/// </summary>
public sealed class Tokenizer
{
    readonly BpeModel model;
    readonly bool nfc;
    readonly AddedTokenMatcher rawMatcher;
    readonly AddedTokenMatcher normalizedMatcher;
    readonly Dictionary<int, AddedToken> addedById;

    /// <summary>Where it was loaded from.</summary>
    public string Source { get; }

    /// <summary>The added tokens (special and not).</summary>
    public IReadOnlyCollection<AddedToken> AddedTokens => addedById.Values;

    /// <summary>Vocab size including added tokens not in the model vocab (HF's <c>len(tokenizer)</c>).</summary>
    public int Count => model.Count + addedById.Keys.Count(id => model.Token(id) is null);

    /// <summary><c>model_max_length</c> from <c>tokenizer_config.json</c> beside the file, when it is a
    /// real limit (Pythia's is 1e30, which means none).</summary>
    public int? ModelMaxLength { get; }

    Tokenizer(string source, BpeModel model, List<AddedToken> added, bool nfc, int? modelMaxLength)
    {
        Source = source;
        ModelMaxLength = modelMaxLength;
        this.model = model;
        this.nfc = nfc;
        addedById = added.ToDictionary(a => a.Id);
        rawMatcher = new AddedTokenMatcher(added.Where(a => !a.Normalized));
        normalizedMatcher = new AddedTokenMatcher(added.Where(a => a.Normalized));
    }

    /// <summary>Loads <c>tokenizer.json</c> from a file or from a folder holding it, and
    /// <c>model_max_length</c> from <c>tokenizer_config.json</c> beside it. A malformed file is an
    /// <see cref="MlsaeException"/> naming the file and the field.</summary>
    public static Tokenizer Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        var (model, added, nfc) = TokenizerJson.Read(file);
        var config = TokenizerConfigJson.Read(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "tokenizer_config.json"));
        return new Tokenizer(file, model, added, nfc, config?.ModelMaxLength);
    }

    /// <summary>The id of a token string (vocab or added), or null.</summary>
    public int? TokenToId(string token) =>
        addedById.Values.FirstOrDefault(a => a.Content == token)?.Id ?? model.Id(token);

    /// <summary>The string of an id (vocab or added), or null.</summary>
    public string? IdToToken(int id) => addedById.TryGetValue(id, out var a) ? a.Content : model.Token(id);

    /// <summary>Encodes text to ids.</summary>
    public List<int> Encode(string text) => EncodeWithTokens(text).Ids;

    /// <summary>Encodes text to ids and their token strings.</summary>
    public (List<int> Ids, List<string> Tokens) EncodeWithTokens(string text)
    {
        var ids = new List<int>();
        var tokens = new List<string>();
        var chars = new StringBuilder();
        rawMatcher.Split(text, (piece, added) =>
        {
            if (added is not null) { ids.Add(added.Id); tokens.Add(added.Content); return; }
            // A lone surrogate (possible in JSON "\ud800" escapes, never in decoded UTF-8) is not text:
            // it becomes U+FFFD, as a UTF-8 round trip would make it, instead of failing NFC.
            var text = ReplaceLoneSurrogates(piece);
            var normalized = nfc && !text.IsNormalized(NormalizationForm.FormC) ? text.Normalize(NormalizationForm.FormC) : text;
            normalizedMatcher.Split(normalized, (inner, addedInner) =>
            {
                if (addedInner is not null) { ids.Add(addedInner.Id); tokens.Add(addedInner.Content); return; }
                ByteLevelSplitter.Split(inner, (start, length) =>
                {
                    chars.Clear();
                    ByteLevelAlphabet.Encode(inner.AsSpan(start, length), chars);
                    foreach (var id in model.Encode(chars.ToString()))
                    {
                        ids.Add(id);
                        tokens.Add(model.Token(id)!);
                    }
                });
            });
        });
        return (ids, tokens);
    }

    static string ReplaceLoneSurrogates(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (!char.IsSurrogate(s[i])) continue;
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));
        }
        return s;
    }

    /// <summary>Decodes ids: the bytes of all tokens concatenated, then one lossy UTF-8 decode
    /// (one U+FFFD per maximal invalid subsequence).</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false, bool cleanUpTokenizationSpaces = false)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (addedById.TryGetValue(id, out var added))
            {
                if (skipSpecialTokens && added.Special) continue;
                ByteLevelAlphabet.Decode(added.Content, bytes);
                continue;
            }
            var token = model.Token(id) ?? throw new MlsaeException($"{Source}: token id {id} is not in the vocabulary");
            ByteLevelAlphabet.Decode(token, bytes);
        }
        var text = Encoding.UTF8.GetString(bytes.ToArray());
        return cleanUpTokenizationSpaces ? CleanUp(text) : text;
    }

    /// <summary>transformers' <c>clean_up_tokenization</c>.</summary>
    public static string CleanUp(string text) => text
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",")
        .Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s")
        .Replace(" 've", "'ve").Replace(" 're", "'re");
}

using System.Text.Json;

namespace Mlsae.Tokenization;

/// <summary>The token tables of tokenizer.json: <c>model.vocab</c>, <c>model.merges</c> and <c>added_tokens</c>.</summary>
internal static partial class TokenizerJson
{
    /// <summary><c>model.vocab</c>: token → id, the ids dense (0..n-1, each once), as every HF BPE
    /// vocab is; this also bounds the id table <see cref="BpeModel"/> allocates.</summary>
    static Dictionary<string, int> ReadVocab(JsonElement model, JsonAt at)
    {
        var vAt = at["vocab"];
        var obj = JsonFields.Object(JsonFields.Required(model, at, "vocab"), vAt);
        var ids = new Dictionary<string, long>();
        foreach (var p in obj.EnumerateObject())
        {
            var token = JsonFields.Name(p, vAt);
            ids[token] = JsonFields.Integer(p.Value, vAt.EntryOf(token));
        }
        int n = ids.Count;
        var owner = new string?[n];
        foreach (var (token, id) in ids)
        {
            if (id < 0 || id >= n)
                throw vAt.EntryOf(token).Error($"has id {id}, outside 0..{n - 1} (the ids of a vocab of {n} tokens are 0..{n - 1}, each once)");
            if (owner[id] is string other)
                throw vAt.EntryOf(token).Error($"has id {id}, which {JsonAt.Quote(other)} has too");
            owner[id] = token;
        }
        return ids.ToDictionary(e => e.Key, e => (int)e.Value);
    }

    /// <summary><c>model.merges</c> in rank order: <c>"a b"</c> strings (split at the first space after
    /// the first character) or <c>["a", "b"]</c> pairs (the newer format).</summary>
    static List<(string, string)> ReadMerges(JsonElement model, JsonAt at)
    {
        var merges = new List<(string, string)>();
        foreach (var (m, mAt) in Items(JsonFields.Required(model, at, "merges"), at["merges"]))
        {
            string a, b;
            if (m.ValueKind == JsonValueKind.String)
            {
                var s = JsonFields.String(m, mAt);
                int space = s.Length > 1 ? s.IndexOf(' ', 1) : -1;
                if (space < 0 || space == s.Length - 1)
                    throw mAt.Error($"must be two tokens separated by a space, got {JsonAt.Quote(s)}");
                (a, b) = (s[..space], s[(space + 1)..]);
            }
            else if (m.ValueKind == JsonValueKind.Array)
            {
                if (m.GetArrayLength() != 2) throw mAt.Error($"must be a pair of tokens, got an array of {m.GetArrayLength()}");
                (a, b) = (JsonFields.String(m[0], mAt[0]), JsonFields.String(m[1], mAt[1]));
                if (a.Length == 0 || b.Length == 0) throw mAt.Error("must be a pair of non-empty tokens");
            }
            else throw mAt.Wrong("a string \"a b\" or a pair [\"a\", \"b\"]", m);
            merges.Add((a, b));
        }
        return merges;
    }

    /// <summary><c>added_tokens</c> (absent or null: none). Each needs an integer <c>id</c>, unique, within
    /// the vocab or just past it (ids 0..vocab + added − 1), and a string <c>content</c>.</summary>
    static List<AddedToken> ReadAddedTokens(JsonElement root, JsonAt at, int vocabSize)
    {
        var added = new List<AddedToken>();
        if (JsonFields.OptArray(root, at, "added_tokens") is not { } list) return added;
        int maxId = checked(vocabSize + list.GetArrayLength() - 1);
        var owner = new Dictionary<int, int>();
        foreach (var (a, aAt) in Items(list, at["added_tokens"]))
        {
            JsonFields.Object(a, aAt);
            int id = JsonFields.Integer(JsonFields.Required(a, aAt, "id"), aAt["id"], 0, maxId);
            var content = JsonFields.String(JsonFields.Required(a, aAt, "content"), aAt["content"]);
            if (owner.TryGetValue(id, out int first))
                throw aAt["id"].Error($"{id} is already the id of \"{at["added_tokens"][first].Field}\"");
            owner[id] = added.Count;
            foreach (var flag in new[] { "single_word", "lstrip", "rstrip" })
                if (JsonFields.OptBool(a, aAt, flag) == true)
                    throw aAt[flag].Error($"true is not supported (added token {JsonAt.Quote(content)})");
            bool special = JsonFields.OptBool(a, aAt, "special") ?? false;
            bool normalized = JsonFields.OptBool(a, aAt, "normalized") ?? !special;
            added.Add(new AddedToken(id, content, special, normalized));
        }
        return added;
    }
}

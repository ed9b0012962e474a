namespace Mlsae.Tokenization;

/// <summary>Splits text around occurrences of added tokens, leftmost-longest, as HF's
/// AddedVocabulary does with its Aho-Corasick tries.</summary>
public sealed class AddedTokenMatcher
{
    readonly Dictionary<char, AddedToken[]> byFirstChar;

    /// <summary>Builds a matcher over <paramref name="tokens"/>.</summary>
    public AddedTokenMatcher(IEnumerable<AddedToken> tokens) =>
        byFirstChar = tokens.Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());

    /// <summary>Whether there is nothing to match.</summary>
    public bool IsEmpty => byFirstChar.Count == 0;

    /// <summary>Emits the pieces of <paramref name="text"/> in order: plain text (token null) and
    /// matched added tokens.</summary>
    public void Split(string text, Action<string, AddedToken?> emit)
    {
        int start = 0;
        for (int i = 0; i < text.Length;)
        {
            AddedToken? found = null;
            if (byFirstChar.TryGetValue(text[i], out var candidates))
                foreach (var t in candidates)
                    if (text.AsSpan(i).StartsWith(t.Content, StringComparison.Ordinal))
                    {
                        found = t;
                        break;
                    }
            if (found is null) { i++; continue; }
            if (i > start) emit(text[start..i], null);
            emit(found.Content, found);
            i += found.Content.Length;
            start = i;
        }
        if (start < text.Length) emit(text[start..], null);
    }
}

using System.Globalization;
using System.Text;

namespace Mlsae.Tokenization;

/// <summary>
/// The GPT-2 pre-tokenization pattern
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>
/// evaluated per Unicode code point with Oniguruma's classes, as HF tokenizers does. .NET's Regex
/// works on UTF-16 units (astral letters would not be <c>\p{L}</c>), so this is a hand-written
/// scanner with the same leftmost-first alternation and backtracking.
/// </summary>
public static class ByteLevelSplitter
{
    enum Kind : byte { Space, Letter, Number, Other }

    /// <summary>Unicode White_Space, Oniguruma's <c>\s</c>.</summary>
    public static bool IsWhiteSpace(int cp) =>
        cp is >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    static Kind Classify(Rune r)
    {
        if (IsWhiteSpace(r.Value)) return Kind.Space;
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter:
                return Kind.Letter;
            case UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber:
                return Kind.Number;
            default:
                return Kind.Other;
        }
    }

    static readonly string[] Contractions = ["s", "t", "re", "ve", "m", "ll", "d"];

    /// <summary>Calls <paramref name="emit"/> with (start, length) in UTF-16 units of each piece of
    /// <paramref name="text"/>, in order; the pieces cover the text.</summary>
    public static void Split(string text, Action<int, int> emit)
    {
        // Code points with their UTF-16 offsets; offsets[n] = text.Length.
        var kinds = new List<Kind>(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length;)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int used);
            if (status != System.Buffers.OperationStatus.Done) rune = Rune.ReplacementChar;
            offsets.Add(i);
            kinds.Add(Classify(rune));
            i += Math.Max(used, 1);
        }
        offsets.Add(text.Length);
        int n = kinds.Count;
        int p = 0;
        while (p < n)
        {
            int end = Match(text, offsets, kinds, p, n);
            emit(offsets[p], offsets[end] - offsets[p]);
            p = end;
        }
    }

    static int Run(List<Kind> kinds, int from, int n, Kind kind)
    {
        int e = from;
        while (e < n && kinds[e] == kind) e++;
        return e;
    }

    static int Match(string text, List<int> offsets, List<Kind> kinds, int p, int n)
    {
        if (text[offsets[p]] == '\'')
            foreach (var c in Contractions)
                if (string.CompareOrdinal(text, offsets[p] + 1, c, 0, c.Length) == 0) return p + 1 + c.Length;
        // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional ASCII space, then a run of one class.
        int q = text[offsets[p]] == ' ' && p + 1 < n && kinds[p + 1] != Kind.Space ? p + 1 : p;
        if (kinds[q] != Kind.Space) return Run(kinds, q + 1, n, kinds[q]);
        // '\s+(?!\S)': the whitespace run, minus its last char when a non-space follows; else '\s+'.
        int e = Run(kinds, p, n, Kind.Space);
        if (e == n) return e;
        return e - p >= 2 ? e - 1 : e;
    }
}

using System.Text;

namespace Mlsae.Embedded;

/// <summary>
/// A deterministic, streaming generator of English-like documents whose structure a small
/// transformer can only model with several layers: subject–verb agreement across relative
/// clauses, nested brackets that must close in order, addition and counting, lists whose items
/// are referred back to, named entities that recur, and verbatim copying. Every word list is
/// written here; no third-party text is used. Document <c>i</c> of a split depends only on the
/// seed, the split and <c>i</c>, so any part of the stream can be regenerated on its own.
/// </summary>
public sealed class SyntheticCorpus(long seed = 0)
{
    /// <summary>The training split's stream and the held-out split's stream are disjoint by construction.</summary>
    public enum Split
    {
        /// <summary>The training stream.</summary>
        Train,
        /// <summary>The held-out evaluation stream.</summary>
        HeldOut,
    }

    static readonly string[] Nouns = ["cat", "dog", "bird", "farmer", "teacher", "box", "key", "river", "tower", "lamp", "garden", "ship", "baker",
        "painter", "window", "road", "stone", "letter", "horse", "child", "doctor", "table", "village", "coin", "bell", "tree", "song", "door"];
    static readonly string[] Adjectives = ["red", "old", "small", "quiet", "bright", "heavy", "green", "tall", "cold", "happy", "strange", "round",
        "dark", "clean", "broken", "golden", "soft", "young", "empty", "loud"];
    static readonly string[] Verbs = ["saw", "found", "painted", "carried", "lost", "watched", "fixed", "sold", "opened", "counted", "moved", "cleaned"];
    static readonly string[] Places = ["near the river", "behind the tower", "in the garden", "on the road", "under the old tree", "by the door",
        "at the market", "inside the village"];
    static readonly string[] Items = ["apples", "pears", "nails", "candles", "ropes", "plums", "cups", "books", "lamps", "bells", "shells", "seeds"];
    static readonly string[] Syllables = ["ka", "ri", "mo", "ta", "len", "vi", "so", "dar", "ne", "lu", "pa", "ro", "mi", "tho", "ga", "bel", "zu", "fi"];
    static readonly (char Open, char Close)[] Brackets = [('(', ')'), ('[', ']'), ('{', '}'), ('<', '>')];

    /// <summary>The documents of a split, from index <paramref name="start"/> on, without end.</summary>
    public IEnumerable<string> Documents(Split split = Split.Train, long start = 0)
    {
        for (long i = start; ; i++) yield return Document(split, i);
    }

    /// <summary>Document <paramref name="index"/> of <paramref name="split"/>.</summary>
    public string Document(Split split, long index)
    {
        var rng = new Random(HashCode(seed, split == Split.Train ? 1 : 2, index));
        var names = Enumerable.Range(0, 3).Select(_ => Name(rng)).ToArray();
        var text = new StringBuilder();
        int sentences = rng.Next(6, 14);
        for (int s = 0; s < sentences; s++)
        {
            if (s > 0) text.Append(rng.Next(4) == 0 ? "\n" : " ");
            text.Append(rng.Next(7) switch
            {
                0 => Agreement(rng),
                1 => Nesting(rng),
                2 => Arithmetic(rng),
                3 => Listing(rng, names[rng.Next(names.Length)]),
                4 => Copying(rng),
                5 => Meeting(rng, names),
                _ => Counting(rng),
            });
        }
        return text.ToString();
    }

    /// <summary>A 64-bit mix of the seed, split and index (SplitMix64), folded to a 32-bit seed.</summary>
    static int HashCode(long seed, int split, long index)
    {
        ulong z = (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)split * 0xBF58476D1CE4E5B9UL ^ (ulong)index * 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z ^ (z >> 32));
    }

    static T Pick<T>(Random rng, T[] items) => items[rng.Next(items.Length)];

    static string Name(Random rng)
    {
        var name = string.Concat(Enumerable.Range(0, rng.Next(2, 4)).Select(_ => Pick(rng, Syllables)));
        return char.ToUpperInvariant(name[0]) + name[1..];
    }

    /// <summary>"The old keys that the baker found near the river are red." — the verb agrees with a distant subject.</summary>
    static string Agreement(Random rng)
    {
        bool plural = rng.Next(2) == 0;
        string subject = Pick(rng, Nouns) + (plural ? "s" : "");
        var clause = new StringBuilder($"the {Pick(rng, Adjectives)} {subject}");
        int depth = rng.Next(0, 3);
        for (int d = 0; d < depth; d++)
            clause.Append(rng.Next(2) == 0 ? $" that the {Pick(rng, Nouns)} {Pick(rng, Verbs)}" : $" {Pick(rng, Places)}");
        string verb = rng.Next(3) switch { 0 => plural ? "are" : "is", 1 => plural ? "were" : "was", _ => plural ? "have been" : "has been" };
        var sentence = $"{clause} {verb} {Pick(rng, Adjectives)}.";
        return char.ToUpperInvariant(sentence[0]) + sentence[1..];
    }

    /// <summary>"nest: ( a [ b { c } ] ) done" — brackets close in the reverse order they opened.</summary>
    static string Nesting(Random rng)
    {
        var text = new StringBuilder("nest:");
        var open = new Stack<char>();
        int steps = rng.Next(4, 14);
        for (int i = 0; i < steps || open.Count > 0; i++)
        {
            if (open.Count < 5 && i < steps && (open.Count == 0 || rng.Next(3) > 0))
            {
                var (o, c) = Pick(rng, Brackets);
                text.Append(' ').Append(o);
                open.Push(c);
                if (rng.Next(2) == 0) text.Append(' ').Append((char)('a' + rng.Next(26)));
            }
            else text.Append(' ').Append(open.Pop());
        }
        return text.Append(" done.").ToString();
    }

    /// <summary>"sum: 23 + 48 = 71." and "double 17 = 34."</summary>
    static string Arithmetic(Random rng)
    {
        int a = rng.Next(0, 100), b = rng.Next(0, 100);
        return rng.Next(3) switch
        {
            0 => $"sum: {a} + {b} = {a + b}.",
            1 => $"double {a} = {2 * a}.",
            _ => $"{Math.Max(a, b)} minus {Math.Min(a, b)} is {Math.Max(a, b) - Math.Min(a, b)}.",
        };
    }

    /// <summary>"Mirel bought pears, cups and seeds. Mirel gave away the cups." — an item named again later.</summary>
    static string Listing(Random rng, string name)
    {
        var items = Items.OrderBy(_ => rng.Next()).Take(rng.Next(2, 5)).ToArray();
        var list = items.Length == 2 ? $"{items[0]} and {items[1]}" : string.Join(", ", items[..^1]) + $" and {items[^1]}";
        return $"{name} bought {list}. {name} {Pick(rng, ["kept", "sold", "gave away", "counted"])} the {Pick(rng, items)}.";
    }

    /// <summary>"repeat: k7 m2 q9 | k7 m2 q9." — a verbatim copy.</summary>
    static string Copying(Random rng)
    {
        var symbols = Enumerable.Range(0, rng.Next(2, 7)).Select(_ => $"{(char)('a' + rng.Next(26))}{rng.Next(10)}").ToArray();
        var seq = string.Join(' ', symbols);
        return $"repeat: {seq} | {seq}.";
    }

    /// <summary>"Kari met Tolen in the garden. Later Tolen thanked Kari." — entities recur in swapped roles.</summary>
    static string Meeting(Random rng, string[] names)
    {
        string a = names[rng.Next(names.Length)], b = names.First(n => n != a || names.Distinct().Count() == 1);
        if (rng.Next(2) == 0) (a, b) = (b, a);
        return $"{a} met {b} {Pick(rng, Places)}. Later {b} {Pick(rng, ["thanked", "called", "helped", "followed"])} {a}.";
    }

    /// <summary>"count: * * * * = 4."</summary>
    static string Counting(Random rng)
    {
        int n = rng.Next(1, 10);
        return $"count: {string.Join(' ', Enumerable.Repeat(Pick(rng, ["*", "o", "#"]), n))} = {n}.";
    }
}

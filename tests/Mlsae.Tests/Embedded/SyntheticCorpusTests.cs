using System.Text.RegularExpressions;
using Mlsae.Embedded;
using Xunit;

namespace Mlsae.Tests.Embedded;

public class SyntheticCorpusTests
{
    [Fact]
    public void DocumentsAreDeterministicAddressableAndDisjointBySplit()
    {
        var corpus = new SyntheticCorpus(seed: 0);
        var first = corpus.Documents().Take(50).ToList();
        Assert.Equal(first, new SyntheticCorpus(0).Documents().Take(50));
        Assert.Equal(first[30..], corpus.Documents(start: 30).Take(20));
        Assert.NotEqual(first, new SyntheticCorpus(1).Documents().Take(50));
        var heldOut = corpus.Documents(SyntheticCorpus.Split.HeldOut).Take(50).ToList();
        Assert.Empty(first.Intersect(heldOut));
    }

    [Fact]
    public void TheStructureIsRight()
    {
        var text = string.Join("\n", new SyntheticCorpus(3).Documents().Take(400));
        // Arithmetic is correct.
        foreach (Match m in Regex.Matches(text, @"sum: (\d+) \+ (\d+) = (\d+)\."))
            Assert.Equal(int.Parse(m.Groups[1].Value) + int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value));
        // Counting is correct.
        foreach (Match m in Regex.Matches(text, @"count: ((?:[*o#] ?)+)= (\d+)\."))
            Assert.Equal(m.Groups[1].Value.Trim().Split(' ').Length, int.Parse(m.Groups[2].Value));
        // Copies are verbatim.
        foreach (Match m in Regex.Matches(text, @"repeat: ([a-z0-9 ]+) \| ([a-z0-9 ]+)\."))
            Assert.Equal(m.Groups[1].Value, m.Groups[2].Value);
        // Brackets close in order.
        var nests = Regex.Matches(text, @"nest: (.*?) done\.");
        Assert.True(nests.Count > 50);
        foreach (Match m in nests)
        {
            var stack = new Stack<char>();
            foreach (var c in m.Groups[1].Value)
            {
                if ("([{<".Contains(c)) stack.Push(c);
                else if (")]}>".Contains(c)) Assert.Equal("([{<"[")]}>".IndexOf(c)], stack.Pop());
            }
            Assert.Empty(stack);
        }
        // Verbs agree with their subjects across the clauses in between.
        var agreements = Regex.Matches(text, @"(?:^|[.\n] )The \w+ (\w+?)(s?)\b[^.]*? (is|are|was|were|has been|have been) \w+\.");
        Assert.True(agreements.Count > 50, $"{agreements.Count} agreement sentences");
        foreach (Match m in agreements)
        {
            bool plural = m.Groups[2].Value == "s";
            Assert.Equal(plural, m.Groups[3].Value is "are" or "were" or "have been");
        }
    }
}

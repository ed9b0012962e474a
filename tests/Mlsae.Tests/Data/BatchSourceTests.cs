using System.Text;
using System.Text.Json;
using Mlsae.Data;
using Mlsae.Embedded;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Data;

public class BatchSourceTests
{
    /// <summary>Short synthetic documents (~20 tokens each), so a few files span several 1024-document map batches.</summary>
    internal static string[] ShortDocuments(int count, int start = 0) =>
        new SyntheticCorpus(4).Documents(start: start).Take(count).Select(d => d[..Math.Min(d.Length, 70)]).ToArray();

    /// <summary>A folder with one file of each line-based format and Parquet: a.jsonl, b.jsonl.zst, c.parquet, d.jsonl.</summary>
    internal static string MultiFileSource(int perFile)
    {
        var dir = Fixtures.TempDir();
        string Lines(int part) => string.Concat(ShortDocuments(perFile, part * perFile).Select(d => JsonSerializer.Serialize(new { text = d }) + "\n"));
        File.WriteAllText(Path.Combine(dir, "a.jsonl"), Lines(0));
        File.WriteAllBytes(Path.Combine(dir, "b.jsonl.zst"), new ZstdSharp.Compressor(3).Wrap(Encoding.UTF8.GetBytes(Lines(1))).ToArray());
        ParquetDocumentsTests.WriteParquet(Path.Combine(dir, "c.parquet"), ShortDocuments(perFile, 2 * perFile), perGroup: 97);
        File.WriteAllText(Path.Combine(dir, "d.jsonl"), "\n" + Lines(3));   // a blank first line: offsets are bytes, not records
        return dir;
    }

    static BatchSource Source(string data, Shard shard, int batchSize = 4, int maxLength = 32) =>
        new(new DataSource(data), new DocumentOptions(), maxLength, batchSize, shard,
            () => Tokenizer.Load(Path.Combine(Fixtures.RepoRoot, "embedded", "model")), () => throw new InvalidOperationException("no hub"));

    static void AssertSame(IReadOnlyList<TokenBatch> expected, IReadOnlyList<TokenBatch> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Indices, actual[i].Indices);
            Assert.Equal(expected[i].Sequences, actual[i].Sequences);
            Assert.Equal(expected[i].Next, actual[i].Next);
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 3)]
    public void ReopeningAtAnyBatchsPositionContinuesTheStreamExactly(int index, int count)
    {
        var data = MultiFileSource(300);
        var all = Source(data, new Shard(index, count)).Batches().ToList();
        Assert.Contains(all, b => b.Next.Document.File == 3);   // the stream reaches the last file
        Assert.All(all.SelectMany(b => b.Indices), j => Assert.Equal(index, (int)(j % count)));
        // Positions at the start, in every file, at map-batch boundaries and at the very end.
        var picks = new List<int> { 0, all.Count - 1 };
        for (int k = 1; k < all.Count; k++)
            if (all[k].Next.Document != all[k - 1].Next.Document) picks.Add(k - 1);
        picks.AddRange(Enumerable.Range(0, 6).Select(i => i * all.Count / 6));
        foreach (var k in picks.Distinct())
        {
            var reopened = Source(data, new Shard(index, count)).Batches(all[k].Next).Take(3).ToList();
            AssertSame(all.Skip(k + 1).Take(3).ToList(), reopened);
        }
    }

    [Fact]
    public void ReopeningReadsNothingBeforeThePosition()
    {
        var data = MultiFileSource(300);
        var all = Source(data, Shard.All).Batches().ToList();
        var deep = all.First(b => b.Next.Document.File == 3);
        var source = Source(data, Shard.All);
        var rest = source.Batches(deep.Next).ToList();
        Assert.Equal(all.Count - all.IndexOf(deep) - 1, rest.Count);
        Assert.Equal(1, source.Report.Files);                          // only d.jsonl was opened
        Assert.True(source.Report.Documents <= 300, $"{source.Report.Documents} documents read");
    }

    [Fact]
    public void PreTokenizedAndEmbeddedSourcesReopenExactly()
    {
        var tokens = Training.TinyRun.Data(57);
        var all = Source(tokens, Shard.All, batchSize: 5).Batches().ToList();
        Assert.Equal(12, all.Count);
        AssertSame(all.Skip(7).ToList(), Source(tokens, Shard.All, batchSize: 5).Batches(all[6].Next).ToList());

        var embedded = Source(DataSource.Embedded, Shard.All, batchSize: 8, maxLength: 256).Batches().Take(200).ToList();
        int deep = embedded.FindIndex(b => b.Next.Document.Offset > 0 && b.Next.Skip > 1);
        Assert.True(deep > 0, "the stream reaches the second map batch");
        AssertSame(embedded.Skip(deep + 1).Take(20).ToList(), Source(DataSource.Embedded, Shard.All, batchSize: 8, maxLength: 256).Batches(embedded[deep].Next).Take(20).ToList());
    }

    [Fact]
    public void APositionIntoASourceThatChangedIsAnError()
    {
        var data = MultiFileSource(300);
        var deep = Source(data, Shard.All).Batches().First(b => b.Next.Document.File == 3).Next;
        File.Move(Path.Combine(data, "d.jsonl"), Path.Combine(data, "e.jsonl"));
        File.WriteAllText(Path.Combine(data, "d0.jsonl"), "{\"text\": \"new\"}\n");
        var error = Assert.Throws<MlsaeException>(() => Source(data, Shard.All).Batches(deep).First());
        Assert.Contains("the source changed since the run started", error.Message);
        Assert.Equal(deep, DataPosition.FromJson(deep.ToJson(), "state"));
        Assert.Contains("state: not a valid data position", Assert.Throws<MlsaeException>(() => DataPosition.FromJson("{\"skip\": \"x\"}", "state")).Message);
    }
}

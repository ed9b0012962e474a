using System.Text.Json;
using Mlsae.Data;
using Mlsae.Tokenization;
using Parquet;
using Parquet.Schema;
using Xunit;

namespace Mlsae.Tests.Data;

public class ParquetDocumentsTests
{
    /// <summary>Writes <paramref name="rows"/> into a Parquet file with a <c>text</c> column (and an
    /// id column), <paramref name="perGroup"/> rows per row group.</summary>
    internal static void WriteParquet(string path, IReadOnlyList<string?> rows, int perGroup, string column = "text")
    {
        var text = new DataField<string>(column, true);
        var id = new DataField<int>("id");
        using var stream = File.Create(path);
        var writer = ParquetWriter.CreateAsync(new ParquetSchema(id, text), stream).GetAwaiter().GetResult();
        try
        {
            for (int start = 0; start < rows.Count; start += perGroup)
            {
                var part = rows.Skip(start).Take(perGroup).ToArray();
                using var group = writer.CreateRowGroup();
                group.WriteAsync<int>(id, Enumerable.Range(start, part.Length).ToArray().AsMemory()).GetAwaiter().GetResult();
                group.WriteAsync(text, part!).GetAwaiter().GetResult();
            }
        }
        finally { writer.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    static string[] PipelineDocuments() => JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement
        .GetProperty("documents").EnumerateArray().Select(d => d.GetString()!).ToArray();

    [Fact]
    public void ReadsTheTextColumnAcrossRowGroupsIntoTheReferenceSequences()
    {
        var dir = Fixtures.TempDir();
        var docs = PipelineDocuments();
        var path = Path.Combine(dir, "train-00000-of-00001.parquet");
        WriteParquet(path, docs, perGroup: 3);
        Assert.Equal(docs, TextDocuments.Read(path));
        var cases = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement;
        var expected = cases.GetProperty("scenarios")[0].GetProperty("expected_sequences").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToList();
        Assert.Equal(expected, SequencePacker.Pack(TextDocuments.Read(dir), Tokenizer.Load(Fixtures.Path("tokenizer")), 0, 32).ToList());
    }

    [Fact]
    public void MissingColumnNullsAndCorruptionAreErrorsNamingTheFile()
    {
        var dir = Fixtures.TempDir();
        var path = Path.Combine(dir, "d.parquet");
        WriteParquet(path, ["a", null, "b"], perGroup: 2);
        Assert.Contains("d.parquet: row 2: \"text\" is null", Assert.Throws<MlsaeException>(() => TextDocuments.Read(path).ToList()).Message);
        var report = new DataReport();
        Assert.Equal(["a", "b"], TextDocuments.Read(path, new DocumentOptions(SkipBadLines: true), report));
        Assert.Equal(1, report.SkippedLines);
        Assert.Contains("no column \"body\"", Assert.Throws<MlsaeException>(() => TextDocuments.Read(path, new DocumentOptions("body")).ToList()).Message);

        var big = Path.Combine(dir, "big.parquet");
        WriteParquet(big, Enumerable.Range(0, 4000).Select(i => $"document number {i}").ToList(), perGroup: 1000);
        var bytes = File.ReadAllBytes(big);
        var truncated = Path.Combine(dir, "truncated.parquet");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Assert.Contains("truncated.parquet: corrupt Parquet", Assert.Throws<MlsaeException>(() => TextDocuments.Read(truncated).First()).Message);
        // Damage inside the last row group's pages: the first row groups are intact, yet nothing is used.
        var damaged = bytes.ToArray();
        int footer = BitConverter.ToInt32(bytes, bytes.Length - 8);
        for (int i = bytes.Length - 8 - footer - 300; i < bytes.Length - 8 - footer - 20; i++) damaged[i] ^= 0x33;
        var bad = Path.Combine(dir, "damaged.parquet");
        File.WriteAllBytes(bad, damaged);
        var error = Record.Exception(() => TextDocuments.Read(bad).First());
        Assert.True(error is MlsaeException, $"expected an MlsaeException naming the file, got {error}");
        Assert.Contains("damaged.parquet", error!.Message);
    }
}

using System.Text;
using Mlsae.Data;
using Xunit;

namespace Mlsae.Tests.Data;

public class BadDataTests
{
    static string Write(string dir, string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static byte[] Line(string prefix, byte[] raw, string suffix) => [.. Encoding.UTF8.GetBytes(prefix), .. raw, .. Encoding.UTF8.GetBytes(suffix)];

    [Fact]
    public void ALoneSurrogateEscapeIsABadLineNotACrash()
    {
        var path = Write(Fixtures.TempDir(), "docs.jsonl", Encoding.UTF8.GetBytes("{\"text\": \"a\"}\n{\"text\": \"\\ud800\"}\n"));
        Assert.Contains("docs.jsonl:2: the text is not valid Unicode", Assert.Throws<MlsaeException>(() => TextDocuments.Read(path).ToList()).Message);
        var report = new DataReport();
        Assert.Equal(["a"], TextDocuments.Read(path, new DocumentOptions(SkipBadLines: true), report));
        Assert.Equal(1, report.SkippedLines);
    }

    [Fact]
    public void SkipBadLinesSkipsMalformedRecordsAndCountsThem()
    {
        var dir = Fixtures.TempDir();
        var path = Write(dir, "docs.jsonl", Encoding.UTF8.GetBytes("{\"text\": \"a\"}\n{\"text\": \n{\"other\": 1}\n[1]\n{\"text\": \"b\"}\n"));
        Assert.Contains("docs.jsonl:2: malformed JSON", Assert.Throws<MlsaeException>(() => TextDocuments.Read(path).ToList()).Message);
        var report = new DataReport();
        Assert.Equal(["a", "b"], TextDocuments.Read(path, new DocumentOptions(SkipBadLines: true), report));
        Assert.Equal(3, report.SkippedLines);
        Assert.Equal(2, report.Documents);
        Assert.Contains("3 malformed records skipped", report.Summary());
    }

    [Theory]
    // Expected strings are Python's bytes.decode('utf-8', errors='replace') of the same bytes.
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 }, "a\uFFFDb")]
    [InlineData(new byte[] { 0x61, 0xE2, 0x82 }, "a\uFFFD")]                 // truncated 3-byte sequence: one U+FFFD
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "\uFFFD\uFFFD\uFFFD")]      // encoded surrogate: one per byte
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98, 0x41 }, "\uFFFDA")]
    [InlineData(new byte[] { 0xC0, 0xAF }, "\uFFFD\uFFFD")]                  // overlong
    public void InvalidUtf8FailsWithFileAndLineOrIsReplacedLikePython(byte[] raw, string expected)
    {
        var dir = Fixtures.TempDir();
        var path = Write(dir, "docs.jsonl", [.. Encoding.UTF8.GetBytes("{\"text\": \"ok\"}\n"), .. Line("{\"text\": \"", raw, "\"}\n")]);
        Assert.Contains("docs.jsonl:2: invalid UTF-8", Assert.Throws<MlsaeException>(() => TextDocuments.Read(path).ToList()).Message);
        var report = new DataReport();
        Assert.Equal(["ok", expected], TextDocuments.Read(path, new DocumentOptions(SkipBadLines: true), report));
        Assert.Equal(1, report.ReplacedLines);
        var txt = Write(dir, "doc.txt", [.. Encoding.UTF8.GetBytes("line one\nline two "), .. raw]);
        Assert.Contains("doc.txt:2: invalid UTF-8", Assert.Throws<MlsaeException>(() => TextDocuments.Read(txt).ToList()).Message);
        Assert.Equal(["line one\nline two " + expected], TextDocuments.Read(txt, new DocumentOptions(SkipBadLines: true)));
    }

    [Fact]
    public void CorruptZstdFrameFailsBeforeAnyDocumentIsUsed()
    {
        var dir = Fixtures.TempDir();
        var lines = string.Join("", Enumerable.Range(0, 20000).Select(i => $"{{\"text\": \"document {i} {new string('x', i % 97)}\"}}\n"));
        var compressed = new ZstdSharp.Compressor(3).Wrap(Encoding.UTF8.GetBytes(lines)).ToArray();
        Assert.Equal(20000, TextDocuments.Read(Write(dir, "good.jsonl.zst", compressed)).Count());
        // Damage the last part of the frame: a streaming reader would have yielded thousands of documents first.
        var damaged = compressed.ToArray();
        for (int i = damaged.Length - 200; i < damaged.Length - 100; i++) damaged[i] ^= 0x5A;
        var path = Write(dir, "bad.jsonl.zst", damaged);
        using var docs = TextDocuments.Read(path).GetEnumerator();
        var e = Assert.Throws<MlsaeException>(() => docs.MoveNext());
        Assert.Contains("bad.jsonl.zst: corrupt zstd", e.Message);
        var truncated = Write(dir, "short.jsonl.zst", compressed[..(compressed.Length / 2)]);
        Assert.Contains("short.jsonl.zst", Assert.Throws<MlsaeException>(() => TextDocuments.Read(truncated).First()).Message);
    }

    [Fact]
    public void ParallelTokenizationKeepsTheSequentialOrder()
    {
        var tok = Mlsae.Tokenization.Tokenizer.Load(Fixtures.Path("tokenizer"));
        var rng = new Random(7);
        var docs = Enumerable.Range(0, 3000).Select(i => string.Join(" ", Enumerable.Range(0, rng.Next(1, 60)).Select(j => $"w{rng.Next(500)}"))).ToList();
        // The order a single thread produces: EOS d1 EOS d2 … per batch, chunked, last chunk dropped.
        var expected = new List<long[]>();
        foreach (var batch in docs.Chunk(256))
        {
            var ids = batch.SelectMany<string, long>(d => new[] { 0L }.Concat(tok.Encode(d).Select(x => (long)x))).ToList();
            int chunks = (ids.Count + 63) / 64;
            for (int c = 0; c < chunks - 1; c++) expected.Add(ids.GetRange(c * 64, 64).ToArray());
        }
        for (int run = 0; run < 3; run++)
            Assert.Equal(expected, SequencePacker.Pack(docs, tok, 0, 64, mapBatchSize: 256).ToList());
    }
}

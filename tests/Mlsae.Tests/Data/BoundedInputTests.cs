using System.Text;
using Mlsae.Data;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.Data;

public class BoundedInputTests
{
    [Fact]
    public void ARecordOverTheDocumentLimitIsAnErrorNamingFileAndLineBeforeItIsHeld()
    {
        var dir = Fixtures.TempDir();
        // 2 MB of one line compress to a few KB: the limit, not the file size, must stop it.
        var line = "{\"text\": \"" + new string('a', 2_000_000) + "\"}\n";
        var zst = Path.Combine(dir, "big.jsonl.zst");
        File.WriteAllBytes(zst, new ZstdSharp.Compressor(19).Wrap(Encoding.UTF8.GetBytes("{\"text\": \"ok\"}\n" + line)).ToArray());
        Assert.True(new FileInfo(zst).Length < 20_000);
        var options = new DocumentOptions(MaxDocumentBytes: 1_000_000);
        var error = Assert.Throws<MlsaeException>(() => TextDocuments.Read(DataFiles.OfLocal([zst]), options, null, default).ToList());
        Assert.Equal($"{zst}:2: a record of more than 1,000,000 bytes (raise --max-document-bytes to read it)", error.Message);
        Assert.Equal(2, TextDocuments.Read(DataFiles.OfLocal([zst]), new DocumentOptions(), null, default).Count());

        var txt = Path.Combine(dir, "doc.txt");
        File.WriteAllText(txt, new string('b', 1_000_001));
        Assert.Contains($"{txt}: a record of more than", Assert.Throws<MlsaeException>(() => TextDocuments.Read(DataFiles.OfLocal([txt]), options, null, default).ToList()).Message);

        var r = CliRunner.Run("data", "--data", zst, "--tokenizer", Fixtures.Path("tokenizer"), "--max-document-bytes", "1000000", "--out", Path.Combine(dir, "out.jsonl"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("big.jsonl.zst:2: a record of more than 1,000,000 bytes", r.Error);
        Assert.False(File.Exists(Path.Combine(dir, "out.jsonl")));
    }

    [Fact]
    public void AFolderWithALinkLoopAndTwoLinksToOneFileReadsEachRealFileOnce()
    {
        var dir = Fixtures.TempDir();
        var sub = Directory.CreateDirectory(Path.Combine(dir, "sub")).FullName;
        File.WriteAllText(Path.Combine(sub, "a.jsonl"), "{\"text\": \"a\"}\n");
        File.WriteAllText(Path.Combine(dir, "b.jsonl"), "{\"text\": \"b\"}\n");
        Directory.CreateSymbolicLink(Path.Combine(sub, "loop"), dir);                     // sub/loop -> .. (a cycle)
        File.CreateSymbolicLink(Path.Combine(dir, "c.jsonl"), Path.Combine(sub, "a.jsonl"));   // a second name for a.jsonl
        var outside = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(outside, "d.jsonl"), "{\"text\": \"d\"}\n");
        Directory.CreateSymbolicLink(Path.Combine(dir, "shared"), outside);                 // links are followed
        Assert.Equal(["b", "a", "d"], TextDocuments.Read(dir).ToList());   // b.jsonl, c.jsonl (= sub/a.jsonl, met first), shared/d.jsonl
    }
}

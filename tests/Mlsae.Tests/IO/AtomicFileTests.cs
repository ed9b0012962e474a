using Mlsae.IO;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void AnUnwritableTargetIsOneErrorNamingTheTargetNotTheTempFile()
    {
        var dir = Fixtures.TempDir();
        var file = Path.Combine(dir, "plain");
        File.WriteAllText(file, "x");
        var target = Path.Combine(file, "out.json");                       // a file where a folder belongs
        var e = Assert.Throws<MlsaeException>(() => AtomicFile.WriteText(target, "{}"));
        Assert.Equal($"cannot write {target}: its folder {file} cannot be created (a file stands where a folder belongs)", e.Message);
        Assert.Contains("--out: an empty file name", Assert.Throws<MlsaeException>(() => AtomicFile.WriteText("", "{}")).Message);

        var data = Path.Combine(dir, "d.jsonl");
        File.WriteAllText(data, "{\"text\": \"hello\"}\n");
        var r = CliRunner.Run("data", "--data", data, "--tokenizer", Fixtures.Path("tokenizer"), "--out", target);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"error: cannot write {target}", r.Error);
        Assert.DoesNotContain(".tmp", r.Error);
        Assert.Empty(Directory.EnumerateFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }
}

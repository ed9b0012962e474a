using System.Text;
using System.Text.Json;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Tokenization;
using Xunit;

namespace Mlsae.Tests.Cli;

/// <summary><c>mlsae tokenize</c> on bad input: it follows the data commands' rule for invalid UTF-8
/// (an error naming file:line, or with <c>--skip-bad-lines</c> replaced as Python's errors='replace'
/// and counted), and a bad line or tokenizer is one error line with exit code 1, never a stack trace.</summary>
public class TokenizeCommandInputTests
{
    static string Input(out string dir)
    {
        dir = Fixtures.TempDir();
        var input = Path.Combine(dir, "in.jsonl");
        var bytes = new List<byte>();
        bytes.AddRange("{\"text\": \"ok\"}\n"u8.ToArray());
        bytes.AddRange("{\"text\": \"a"u8.ToArray());
        bytes.Add(0xFF);
        bytes.AddRange("b\"}\n{\"text\": \"fine\"}\n"u8.ToArray());
        File.WriteAllBytes(input, bytes.ToArray());
        return input;
    }

    [Fact]
    public void InvalidUtf8IsAnErrorNamingFileAndLine()
    {
        var input = Input(out var dir);
        var output = Path.Combine(dir, "out.jsonl");
        var r = CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", input, "--out", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{input}:2: invalid UTF-8 (use --skip-bad-lines to replace it)", r.Error);
        Assert.DoesNotContain("Unhandled", r.Error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void SkipBadLinesReplacesLikePythonAndCounts()
    {
        var input = Input(out var dir);
        var output = Path.Combine(dir, "out.jsonl");
        var r = CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", input, "--out", output, "--skip-bad-lines");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("3 lines encoded, 1 with invalid UTF-8 replaced", r.Out);
        var lines = File.ReadAllLines(output);
        Assert.Equal(3, lines.Length);
        // b"a\xffb".decode(errors="replace") == "a\ufffdb"
        var decoded = Path.Combine(dir, "decoded.jsonl");
        Assert.Equal(0, CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", output, "--out", decoded, "--decode").ExitCode);
        Assert.Equal("a\uFFFDb", JsonDocument.Parse(File.ReadAllLines(decoded)[1]).RootElement.GetProperty("text").GetString());
    }

    [Theory]
    [InlineData("[1, 2]", "in.jsonl:1: expected an object with a \"text\" string")]
    [InlineData("{\"text\": \"\\ud800\"}", "in.jsonl:1: \"text\" is not valid Unicode")]
    [InlineData("\"text\"", "in.jsonl:1: expected an object with a \"text\" string")]
    public void NonObjectOrNonTextLinesAreErrorsNotCrashes(string line, string expected)
    {
        var dir = Fixtures.TempDir();
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, line + "\n", new UTF8Encoding(false));
        var r = CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", input, "--out", Path.Combine(dir, "out.jsonl"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(expected, r.Error);
        var d = CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", input, "--out", Path.Combine(dir, "out.jsonl"), "--decode");
        Assert.Equal(1, d.ExitCode);
    }

    [Fact]
    public void MalformedTokenizerIsOneErrorLine()
    {
        var dir = Fixtures.TempDir();
        var tokenizer = JsonEdit.Write("tokenizer.json", JsonEdit.Apply(JsonEdit.Read(Fixtures.Path("tokenizer", "tokenizer.json")), "model/vocab", "[]"));
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"ok\"}\n");
        var r = CliRunner.Run("tokenize", "--tokenizer", tokenizer, "--input", input, "--out", Path.Combine(dir, "out.jsonl"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{tokenizer}: \"model.vocab\" must be an object, got an array", r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }
}

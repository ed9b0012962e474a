using System.Text.Json;
using Xunit;

namespace Mlsae.Tests.Cli;

public class TokenizeCommandTests
{
    [Fact]
    public void EncodesThenDecodesLineByLine()
    {
        var dir = Fixtures.TempDir();
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllLines(input, [JsonSerializer.Serialize(new { text = "Hello world" }), JsonSerializer.Serialize(new { text = "a  b<|endoftext|>c ." })]);
        var encoded = Path.Combine(dir, "ids.jsonl");
        var r = CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", input, "--out", encoded);
        Assert.True(r.ExitCode == 0, r.Error);
        var first = JsonDocument.Parse(File.ReadLines(encoded).First()).RootElement;
        Assert.Equal([41, 70, 364, 80, 282, 278, 468], first.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("Ġw", first.GetProperty("tokens")[4].GetString());

        var decoded = Path.Combine(dir, "text.jsonl");
        Assert.Equal(0, CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", encoded, "--out", decoded, "--decode").ExitCode);
        Assert.Equal(["Hello world", "a  b<|endoftext|>c ."], File.ReadLines(decoded).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()));
        Assert.Equal(0, CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", encoded, "--out", decoded, "--decode",
            "--skip-special-tokens", "--clean-up-tokenization-spaces").ExitCode);
        Assert.Equal("a  bc.", JsonDocument.Parse(File.ReadLines(decoded).Last()).RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void MalformedLineIsAnErrorNamingFileAndLineAndWritesNothing()
    {
        var dir = Fixtures.TempDir();
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"text\": \"ok\"}\n{\"text\": oops}\n");
        var output = Path.Combine(dir, "out.jsonl");
        var r = CliRunner.Run("tokenize", "--tokenizer", Fixtures.Path("tokenizer"), "--input", input, "--out", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("in.jsonl:2: malformed JSON", r.Error);
        Assert.False(File.Exists(output));
    }
}

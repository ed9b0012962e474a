using System.Text.Json;
using Mlsae.Data;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Cli;

public class DataCommandTests
{
    static readonly JsonElement Cases = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement;
    static string[] Documents => Cases.GetProperty("documents").EnumerateArray().Select(d => d.GetString()!).ToArray();
    static List<long[]> MainExpected => Cases.GetProperty("scenarios")[0].GetProperty("expected_sequences").EnumerateArray()
        .Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToList();

    static List<long[]> ReadIds(string path) => File.ReadLines(path)
        .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("input_ids").EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToList();

    [Theory]
    [InlineData("jsonl")]
    [InlineData("jsonl.zst")]
    public void WritesTheReferenceSequencesFromJsonlAndZstd(string kind)
    {
        var dir = Fixtures.TempDir();
        var lines = string.Join('\n', Documents.Select(d => JsonSerializer.Serialize(new { body = d }))) + "\n";
        var path = Path.Combine(dir, "docs." + kind);
        var bytes = System.Text.Encoding.UTF8.GetBytes(lines);
        File.WriteAllBytes(path, kind == "jsonl" ? bytes : new ZstdSharp.Compressor(3).Wrap(bytes).ToArray());
        var output = Path.Combine(dir, "seqs.jsonl");
        var r = CliRunner.Run("data", "--data", path, "--tokenizer", Fixtures.Path("tokenizer"), "--max-length", "32", "--text-field", "body", "--out", output);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(MainExpected, ReadIds(output));
        Assert.Equal(0, CliRunner.Run("data", "--data", path, "--tokenizer", Fixtures.Path("tokenizer"), "--max-length", "32", "--text-field", "body",
            "--out", output, "--limit", "3").ExitCode);
        Assert.Equal(MainExpected.Take(3), ReadIds(output));
    }

    [Fact]
    public void FolderOfTextFilesIsOneDocumentPerFileInNameOrder()
    {
        var dir = Fixtures.TempDir();
        var docs = Documents;
        for (int i = 0; i < docs.Length; i++) File.WriteAllText(Path.Combine(dir, $"doc{i:D3}.txt"), docs[i]);
        Assert.Equal(docs, TextDocuments.Read(dir));
        var tok = Tokenizer.Load(Fixtures.Path("tokenizer"));
        Assert.Equal(MainExpected, SequencePacker.Pack(TextDocuments.Read(Path.Combine(dir, "doc*.txt")), tok, 0, 32).ToList());
    }

    [Theory]
    [InlineData("{\"text\": \"a\"}\n{\"text\": \n", "docs.jsonl:2: malformed JSON")]
    [InlineData("{\"text\": \"a\"}\n{\"other\": \"b\"}\n", "docs.jsonl:2: no string field \"text\"")]
    public void BadLinesAreErrorsNamingFileAndLine(string content, string message)
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "docs.jsonl"), content);
        var output = Path.Combine(dir, "seqs.jsonl");
        var r = CliRunner.Run("data", "--data", Path.Combine(dir, "docs.jsonl"), "--tokenizer", Fixtures.Path("tokenizer"), "--out", output, "--max-length", "4");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void InvalidUtf8AndCorruptZstdAreErrorsNamingTheFile()
    {
        var dir = Fixtures.TempDir();
        File.WriteAllBytes(Path.Combine(dir, "bad.jsonl"), [.. "{\"text\": \"a\"}\n{\"text\": \"\xff\"}\n"u8[..^5], 0xFF, (byte)'"', (byte)'}', (byte)'\n']);
        Assert.Contains("bad.jsonl:2: invalid UTF-8", Assert.Throws<MlsaeException>(() => TextDocuments.Read(Path.Combine(dir, "bad.jsonl")).ToList()).Message);
        File.WriteAllBytes(Path.Combine(dir, "bad.jsonl.zst"), [0x28, 0xB5, 0x2F, 0xFD, 1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Contains("bad.jsonl.zst: corrupt zstd", Assert.Throws<MlsaeException>(() => TextDocuments.Read(Path.Combine(dir, "bad.jsonl.zst")).ToList()).Message);
    }

    [Fact]
    public void EmptySourceGivesAClearMessageAndNoSequences()
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "docs.jsonl"), "");
        var output = Path.Combine(dir, "seqs.jsonl");
        var r = CliRunner.Run("data", "--data", Path.Combine(dir, "docs.jsonl"), "--tokenizer", Fixtures.Path("tokenizer"), "--out", output);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("no sequences", r.Error);
        Assert.Equal("", File.ReadAllText(output));
        var missing = CliRunner.Run("data", "--data", Path.Combine(dir, "nope*.jsonl"), "--tokenizer", Fixtures.Path("tokenizer"), "--out", output);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no files match", missing.Error);
    }
}

public class DataShardTests
{
    [Fact]
    public void ShardsSplitTheSequencesDisjointlyAndCoverThem()
    {
        var dir = Fixtures.TempDir();
        var docs = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement.GetProperty("documents")
            .EnumerateArray().Select(d => JsonSerializer.Serialize(new { text = d.GetString() }));
        var path = Path.Combine(dir, "docs.jsonl");
        File.WriteAllLines(path, docs);
        List<string> Run(params string[] extra)
        {
            var output = Path.Combine(dir, Guid.NewGuid().ToString("N") + ".jsonl");
            var r = CliRunner.Run(["data", "--data", path, "--tokenizer", Fixtures.Path("tokenizer"), "--max-length", "16", "--out", output, .. extra]);
            Assert.True(r.ExitCode == 0, r.Error);
            return File.ReadAllLines(output).ToList();
        }
        var all = Run();
        var parts = new[] { Run("--shard", "0/3"), Run("--shard", "1/3"), Run("--shard", "2/3") };
        Assert.Equal(all.Where((_, j) => j % 3 == 1), parts[1]);
        Assert.Equal(all.Order(), parts.SelectMany(p => p).Order());
        var bad = CliRunner.Run("data", "--data", path, "--tokenizer", Fixtures.Path("tokenizer"), "--out", Path.Combine(dir, "x.jsonl"), "--shard", "3/3");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--shard", bad.Error);
    }
}

public class ModelMaxLengthTests
{
    [Fact]
    public void SequencesAreCutAtTheTokenizersModelMaxLengthAsTheReferenceDoes()
    {
        var dir = Fixtures.TempDir();
        foreach (var f in new[] { "tokenizer.json", "special_tokens_map.json" }) File.Copy(Fixtures.Path("tokenizer", f), Path.Combine(dir, f));
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "tokenizer_config.json")))!.AsObject();
        config["model_max_length"] = 16;
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString());
        Assert.Equal(16, Mlsae.Tokenization.Tokenizer.Load(dir).ModelMaxLength);
        var docs = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement.GetProperty("documents")
            .EnumerateArray().Select(d => d.GetString()!).ToList();
        var expected = SequencePacker.Pack(docs, Mlsae.Tokenization.Tokenizer.Load(Fixtures.Path("tokenizer")), 0, 16).ToList();
        var path = Path.Combine(dir, "docs.jsonl");
        File.WriteAllLines(path, docs.Select(d => JsonSerializer.Serialize(new { text = d })));
        var actual = SequenceStream.Open(new DataSource(path), () => Mlsae.Tokenization.Tokenizer.Load(dir), 32, null, null, () => throw new InvalidOperationException()).ToList();
        Assert.Equal(expected, actual);
        Assert.Null(Mlsae.Tokenization.Tokenizer.Load(Fixtures.Path("tokenizer")).ModelMaxLength);
    }
}

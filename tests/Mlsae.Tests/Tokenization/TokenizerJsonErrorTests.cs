using System.Text;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Tokenization;

/// <summary>A tokenizer.json with one field of the wrong type or out of range fails to load with one
/// <see cref="MlsaeException"/> line naming the file and the field (no other exception type).</summary>
public class TokenizerJsonErrorTests
{
    static readonly string FixturePath = Fixtures.Path("tokenizer", "tokenizer.json");

    /// <summary>Loads <paramref name="text"/> as a tokenizer.json and returns the error, checking its shape.</summary>
    static string LoadError(string text) => LoadError(Encoding.UTF8.GetBytes(text));

    static string LoadError(byte[] bytes)
    {
        var path = Path.Combine(Fixtures.TempDir(), "tokenizer.json");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<MlsaeException>(() => Tokenizer.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message[(path.Length + 2)..];
    }

    static string Edited(string path, string? raw) => JsonEdit.Apply(JsonEdit.Read(FixturePath), path, raw).ToJsonString();

    [Theory]
    // model.vocab
    [InlineData("model/vocab", "[]", "\"model.vocab\" must be an object, got an array")]
    [InlineData("model/vocab", "\"x\"", "\"model.vocab\" must be an object, got \"x\"")]
    [InlineData("model/vocab", null, "\"model.vocab\" is missing")]
    [InlineData("model/vocab/a", "\"66\"", "\"model.vocab\" entry \"a\" must be an integer, got \"66\"")]
    [InlineData("model/vocab/a", "1.5", "\"model.vocab\" entry \"a\" must be an integer, got 1.5")]
    [InlineData("model/vocab/a", "-1", "\"model.vocab\" entry \"a\" has id -1, outside 0..857")]
    [InlineData("model/vocab/a", "2147483647", "\"model.vocab\" entry \"a\" has id 2147483647, outside 0..857")]
    [InlineData("model/vocab/a", "858", "\"model.vocab\" entry \"a\" has id 858, outside 0..857")]
    [InlineData("model/vocab/a", "1e400", "\"model.vocab\" entry \"a\" must be an integer, got 1e400")]
    [InlineData("model/vocab/a", "67", "has id 67, which")]
    // model.merges
    [InlineData("model/merges", "{}", "\"model.merges\" must be an array, got an object")]
    [InlineData("model/merges", null, "\"model.merges\" is missing")]
    [InlineData("model/merges/0", "\"\"", "\"model.merges[0]\" must be two tokens separated by a space, got \"\"")]
    [InlineData("model/merges/0", "\"Ġ\"", "\"model.merges[0]\" must be two tokens separated by a space, got \"Ġ\"")]
    [InlineData("model/merges/0", "\"Ġ \"", "\"model.merges[0]\" must be two tokens separated by a space")]
    [InlineData("model/merges/0", "7", "\"model.merges[0]\" must be a string \"a b\" or a pair [\"a\", \"b\"], got 7")]
    [InlineData("model/merges/0", "null", "\"model.merges[0]\" must be a string \"a b\" or a pair")]
    [InlineData("model/merges/0", "[\"a\"]", "\"model.merges[0]\" must be a pair of tokens, got an array of 1")]
    [InlineData("model/merges/0", "[\"a\", 1]", "\"model.merges[0][1]\" must be a string, got 1")]
    [InlineData("model/merges/0", "[\"\", \"a\"]", "\"model.merges[0]\" must be a pair of non-empty tokens")]
    [InlineData("model/merges/0", "\"Ġ xyzzy\"", "\"model.merges[0]\" \"Ġ xyzzy\" uses a token missing from the vocab")]
    // added_tokens
    [InlineData("added_tokens", "{}", "\"added_tokens\" must be an array, got an object")]
    [InlineData("added_tokens/0", "\"x\"", "\"added_tokens[0]\" must be an object, got \"x\"")]
    [InlineData("added_tokens/0/id", null, "\"added_tokens[0].id\" is missing")]
    [InlineData("added_tokens/0/id", "\"0\"", "\"added_tokens[0].id\" must be an integer, got \"0\"")]
    [InlineData("added_tokens/0/id", "-3", "\"added_tokens[0].id\" must be in 0..882, got -3")]
    [InlineData("added_tokens/0/id", "2147483647", "\"added_tokens[0].id\" must be in 0..882, got 2147483647")]
    [InlineData("added_tokens/1/id", "0", "\"added_tokens[1].id\" 0 is already the id of \"added_tokens[0]\"")]
    [InlineData("added_tokens/0/content", "5", "\"added_tokens[0].content\" must be a string, got 5")]
    [InlineData("added_tokens/0/content", null, "\"added_tokens[0].content\" is missing")]
    [InlineData("added_tokens/0/special", "\"yes\"", "\"added_tokens[0].special\" must be true or false, got \"yes\"")]
    [InlineData("added_tokens/0/normalized", "0", "\"added_tokens[0].normalized\" must be true or false, got 0")]
    [InlineData("added_tokens/0/lstrip", "true", "\"added_tokens[0].lstrip\" true is not supported")]
    // normalizer
    [InlineData("normalizer", "\"NFC\"", "\"normalizer\" must be an object, got \"NFC\"")]
    [InlineData("normalizer/type", "3", "\"normalizer.type\" must be a string, got 3")]
    [InlineData("normalizer", "{\"type\": \"Sequence\"}", "\"normalizer.normalizers\" is missing")]
    [InlineData("normalizer", "{\"type\": \"Sequence\", \"normalizers\": {}}", "\"normalizer.normalizers\" must be an array, got an object")]
    [InlineData("normalizer", "{\"type\": \"Sequence\", \"normalizers\": [\"NFC\"]}", "\"normalizer.normalizers[0]\" must be an object, got \"NFC\"")]
    [InlineData("normalizer", "{\"type\": \"Sequence\", \"normalizers\": [{}]}", "\"normalizer.normalizers[0].type\" is missing")]
    [InlineData("normalizer", "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFKC\"}]}", "normalizer Sequence [NFKC] is not supported")]
    [InlineData("normalizer", "{\"type\": \"NFKC\"}", "normalizer type 'NFKC' is not supported")]
    // pre_tokenizer, post_processor, decoder
    [InlineData("pre_tokenizer", "[]", "\"pre_tokenizer\" must be an object, got an array")]
    [InlineData("pre_tokenizer", null, "\"pre_tokenizer\" is missing")]
    [InlineData("pre_tokenizer/type", "[1]", "\"pre_tokenizer.type\" must be a string, got an array")]
    [InlineData("pre_tokenizer/add_prefix_space", "\"false\"", "\"pre_tokenizer.add_prefix_space\" must be true or false, got \"false\"")]
    [InlineData("pre_tokenizer/use_regex", "0", "\"pre_tokenizer.use_regex\" must be true or false, got 0")]
    [InlineData("pre_tokenizer/use_regex", "false", "\"pre_tokenizer.use_regex\" false is not supported")]
    [InlineData("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": {}}", "\"post_processor.single\" must be an array, got an object")]
    [InlineData("post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [1]}", "\"post_processor.single[0]\" must be an object, got 1")]
    [InlineData("post_processor", "7", "\"post_processor\" must be an object, got 7")]
    [InlineData("decoder", "true", "\"decoder\" must be an object, got true")]
    [InlineData("decoder/type", "\"WordPiece\"", "decoder type 'WordPiece' is not supported (only ByteLevel)")]
    // model, top level
    [InlineData("model", "[]", "\"model\" must be an object, got an array")]
    [InlineData("model", null, "\"model\" is missing")]
    [InlineData("model/type", "1", "\"model.type\" must be a string, got 1")]
    [InlineData("model/type", "\"Unigram\"", "model type 'Unigram' is not supported (only BPE)")]
    [InlineData("model/dropout", "\"0.1\"", "\"model.dropout\" must be a finite number, got \"0.1\"")]
    [InlineData("model/dropout", "0.1", "\"model.dropout\" 0.1 is not supported")]
    [InlineData("model/fuse_unk", "\"no\"", "\"model.fuse_unk\" must be true or false, got \"no\"")]
    [InlineData("model/unk_token", "5", "\"model.unk_token\" must be a string, got 5")]
    [InlineData("model/continuing_subword_prefix", "5", "\"model.continuing_subword_prefix\" must be a string, got 5")]
    [InlineData("truncation", "5", "\"truncation\" must be an object, got 5")]
    [InlineData("padding", "\"x\"", "\"padding\" must be an object, got \"x\"")]
    [InlineData("version", "1", "\"version\" must be a string, got 1")]
    public void BadFieldIsOneErrorNamingTheFileAndTheField(string path, string? value, string expected)
    {
        Assert.Contains(expected, LoadError(Edited(path, value)));
    }

    [Fact]
    public void DuplicateVocabIdNamesBothTokens()
    {
        var message = LoadError(Edited("model/vocab/a", "67"));
        Assert.Matches("^\"model.vocab\" entry \"[ab]\" has id 67, which \"[ab]\" has too$", message);
    }

    [Fact]
    public void WholeFileProblemsAreOneErrorNamingTheFile()
    {
        var text = File.ReadAllText(FixturePath);
        Assert.StartsWith("must hold a JSON object, got an array", LoadError("[1, 2]"));
        Assert.StartsWith("must hold a JSON object, got \"tokenizer\"", LoadError("\"tokenizer\""));
        Assert.StartsWith("invalid JSON (", LoadError(text[..(text.Length / 2)]));
        Assert.StartsWith("invalid JSON (", LoadError(""));
        var bytes = File.ReadAllBytes(FixturePath);
        int at = Array.IndexOf(bytes, (byte)'"', 100) + 1;
        bytes[at] = 0xFF;
        Assert.Equal($"invalid UTF-8 at byte {at}", LoadError(bytes));
    }

    [Fact]
    public void LoneSurrogateEscapesAreErrorsNotCrashes()
    {
        var text = File.ReadAllText(FixturePath);
        // Every string and key is unescaped once when the file is parsed, so the error names the byte.
        Assert.Matches(@"^invalid JSON \(the string at byte \d+ escapes an unpaired UTF-16 surrogate\)$", LoadError(text.Replace("\"vocab\": {", "\"vocab\": {\"\\ud800\": 0, ")));
        var added = JsonEdit.Apply(JsonEdit.Read(FixturePath), "added_tokens/0/content", "\"x\"").ToJsonString().Replace("\"content\":\"x\"", "\"content\":\"\\udc00\"");
        Assert.Matches(@"^invalid JSON \(the string at byte \d+ escapes an unpaired UTF-16 surrogate\)$", LoadError(added));
    }

    [Fact]
    public void AWellFormedFileStillLoadsWithItsOptionalFieldsNull()
    {
        var node = JsonEdit.Read(FixturePath);
        foreach (var (path, value) in new[] { ("normalizer", "null"), ("post_processor", "null"), ("decoder", "null"), ("truncation", "null"), ("added_tokens", "null"), ("model/dropout", "null") })
            JsonEdit.Apply(node, path, value);
        var tok = Tokenizer.Load(JsonEdit.Write("tokenizer.json", node));
        Assert.Empty(tok.AddedTokens);
        Assert.NotEmpty(tok.Encode("Hello world"));
        // The newer merge format (pairs) and an NFC Sequence are the same tokenizer.
        var pairs = JsonEdit.Read(FixturePath);
        JsonEdit.Apply(pairs, "normalizer", "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}]}");
        JsonEdit.Apply(pairs, "model/merges/0", "[\"Ġ\", \"Ġ\"]");
        var same = Tokenizer.Load(JsonEdit.Write("tokenizer.json", pairs));
        var original = Tokenizer.Load(FixturePath);
        Assert.Equal(original.Encode("  Hello   wörld <|endoftext|>"), same.Encode("  Hello   wörld <|endoftext|>"));
    }
}

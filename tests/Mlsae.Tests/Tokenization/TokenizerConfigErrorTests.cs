using Mlsae.Models;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Tokenization;

/// <summary>tokenizer_config.json and special_tokens_map.json of the wrong shape are one
/// <see cref="MlsaeException"/> naming the file and the field, from the tokenizer and from the
/// special-token lookup alike.</summary>
public class TokenizerConfigErrorTests
{
    /// <summary>A copy of the fixture tokenizer folder with <paramref name="file"/> replaced by <paramref name="text"/>.</summary>
    static string Folder(string file, string text)
    {
        var dir = Fixtures.TempDir();
        foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json" })
            File.Copy(Fixtures.Path("tokenizer", name), Path.Combine(dir, name));
        File.WriteAllText(Path.Combine(dir, file), text);
        return dir;
    }

    static string Error(string path, Action load)
    {
        var e = Assert.Throws<MlsaeException>(load);
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message[(path.Length + 2)..];
    }

    static SpecialTokens Special(string dir) => SpecialTokens.ForModel(dir, new GptNeoXConfig());

    [Theory]
    [InlineData("[]", "must hold a JSON object, got an array")]
    [InlineData("{\"eos_token\": 5}", "\"eos_token\" must be a string or an object with a \"content\" string, got 5")]
    [InlineData("{\"bos_token\": [\"<|endoftext|>\"]}", "\"bos_token\" must be a string or an object with a \"content\" string, got an array")]
    [InlineData("{\"pad_token\": {\"content\": 1}}", "\"pad_token.content\" must be a string, got 1")]
    [InlineData("{\"pad_token\": {\"__type\": \"AddedToken\"}}", "\"pad_token.content\" is missing")]
    [InlineData("{\"model_max_length\": \"2048\"}", "\"model_max_length\" must be a finite number, got \"2048\"")]
    [InlineData("{\"model_max_length\": 0}", "\"model_max_length\" must be positive, got 0")]
    [InlineData("{\"model_max_length\": 2048.5}", "\"model_max_length\" must be an integer, got 2048.5")]
    [InlineData("{\"added_tokens_decoder\": []}", "\"added_tokens_decoder\" must be an object, got an array")]
    [InlineData("{\"added_tokens_decoder\": {\"x\": {\"content\": \"a\"}}}", "\"added_tokens_decoder\" entry \"x\" is not a token id")]
    [InlineData("{\"added_tokens_decoder\": {\"0\": \"a\"}}", "\"added_tokens_decoder\" entry \"0\" must be an object, got \"a\"")]
    [InlineData("{\"added_tokens_decoder\": {\"0\": {}}}", "\"added_tokens_decoder.0.content\" is missing")]
    [InlineData("{\"added_tokens_decoder\": {\"0\": {\"content\": \"a\", \"special\": \"yes\"}}}", "\"added_tokens_decoder.0.special\" must be true or false, got \"yes\"")]
    [InlineData("{\"additional_special_tokens\": [1]}", "\"additional_special_tokens[0]\" must be a string or an object")]
    [InlineData("{\"additional_special_tokens\": \"<x>\"}", "\"additional_special_tokens\" must be an array, got \"<x>\"")]
    [InlineData("{\"eos_token\": ", "invalid JSON (")]
    public void MalformedTokenizerConfigIsAnErrorNamingTheField(string text, string expected)
    {
        var dir = Folder("tokenizer_config.json", text);
        var path = Path.Combine(dir, "tokenizer_config.json");
        Assert.StartsWith(expected, Error(path, () => Tokenizer.Load(dir)));
        Assert.StartsWith(expected, Error(path, () => Special(dir)));
    }

    [Theory]
    [InlineData("[\"<|endoftext|>\"]", "must hold a JSON object, got an array")]
    [InlineData("{\"eos_token\": 0}", "\"eos_token\" must be a string or an object with a \"content\" string, got 0")]
    [InlineData("{\"bos_token\": true}", "\"bos_token\" must be a string or an object with a \"content\" string, got true")]
    public void MalformedSpecialTokensMapIsAnErrorNamingTheField(string text, string expected)
    {
        var dir = Folder("special_tokens_map.json", text);
        Assert.StartsWith(expected, Error(Path.Combine(dir, "special_tokens_map.json"), () => Special(dir)));
    }

    [Fact]
    public void MalformedTokenizerJsonIsAnErrorOfTheSpecialTokenLookupToo()
    {
        var dir = Folder("tokenizer.json", JsonEdit.Apply(JsonEdit.Read(Fixtures.Path("tokenizer", "tokenizer.json")), "added_tokens/0/id", null).ToJsonString());
        Assert.Equal("\"added_tokens[0].id\" is missing", Error(Path.Combine(dir, "tokenizer.json"), () => Special(dir)));
    }

    [Fact]
    public void WellFormedVariantsAreRead()
    {
        // The AddedToken object form, null (no such token), and a real length limit.
        var dir = Folder("tokenizer_config.json",
            "{\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<|endoftext|>\", \"lstrip\": false}, \"pad_token\": null, \"model_max_length\": 2048,"
            + " \"added_tokens_decoder\": {\"0\": {\"content\": \"<|endoftext|>\", \"special\": true}}}");
        File.WriteAllText(Path.Combine(dir, "special_tokens_map.json"), "{\"pad_token\": {\"content\": \"<|padding|>\"}}");
        Assert.Equal(2048, Tokenizer.Load(dir).ModelMaxLength);
        Assert.Equal(new long[] { 0, 1 }, Special(dir).Ids);
        // transformers writes int(1e30) for "no limit".
        var none = Folder("tokenizer_config.json", "{\"model_max_length\": 1000000000000000019884624838656}");
        Assert.Null(Tokenizer.Load(none).ModelMaxLength);
    }
}

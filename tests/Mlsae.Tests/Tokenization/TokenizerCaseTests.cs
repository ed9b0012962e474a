using System.Text;
using System.Text.Json;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests.Tokenization;

/// <summary>All 189 public encode/decode cases of ../shared/fixtures/tokenizer, which come from
/// HF tokenizers (Rust core and Tokenizers.js agree). Exact match.</summary>
public class TokenizerCaseTests
{
    static readonly Tokenizer Tok = Tokenizer.Load(Fixtures.Path("tokenizer"));

    public static IEnumerable<object[]> Cases() =>
        File.ReadLines(Fixtures.Path("tokenizer", "cases.jsonl")).Select(l => new object[] { JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()! });

    static JsonElement Case(string id) =>
        File.ReadLines(Fixtures.Path("tokenizer", "cases.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .First(e => e.GetProperty("id").GetString() == id);

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodesAndDecodesAsHfTokenizers(string id)
    {
        var c = Case(id);
        var text = c.GetProperty("text").GetString()!;
        var (ids, tokens) = Tok.EncodeWithTokens(text);
        Assert.Equal(c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()), ids);
        Assert.Equal(c.GetProperty("tokens").EnumerateArray().Select(e => e.GetString()!), tokens);
        Assert.Equal(c.GetProperty("decoded").GetString(), Tok.Decode(ids));
        Assert.Equal(c.GetProperty("decoded_skip_special").GetString(), Tok.Decode(ids, skipSpecialTokens: true));
        Assert.Equal(c.GetProperty("decoded_transformers_cleanup").GetString(), Tok.Decode(ids, cleanUpTokenizationSpaces: true));
    }

    [Fact]
    public void AstralLettersAreLettersForThePreTokenizer()
    {
        var pieces = new List<string>();
        var text = "\U0001D407's \U00020000x 1\U0001D7CE";
        ByteLevelSplitter.Split(text, (s, n) => pieces.Add(text.Substring(s, n)));
        Assert.Equal(["\U0001D407", "'s", " \U00020000x", " 1\U0001D7CE"], pieces);
    }

    [Fact]
    public void OnigurumaWhiteSpaceIncludesNelAndExcludesBom()
    {
        Assert.True(ByteLevelSplitter.IsWhiteSpace(0x85));
        Assert.True(ByteLevelSplitter.IsWhiteSpace(0x3000));
        Assert.False(ByteLevelSplitter.IsWhiteSpace(0xFEFF));
        Assert.False(ByteLevelSplitter.IsWhiteSpace(0x200B));
        var pieces = new List<string>();
        var text = "a\u0085\u0085b\uFEFFc";
        ByteLevelSplitter.Split(text, (s, n) => pieces.Add(text.Substring(s, n)));
        Assert.Equal(["a", "\u0085", "\u0085", "b", "\uFEFF", "c"], pieces);
    }

    [Fact]
    public void VeryLongInputsRoundTrip()
    {
        var sb = new StringBuilder();
        var rng = new Random(5);
        for (int i = 0; i < 20000; i++) sb.Append((char)rng.Next(0x20, 0x7f));
        sb.Append(new string('x', 50000));
        var text = sb.ToString();
        Assert.Equal(text, Tok.Decode(Tok.Encode(text)));
    }

    [Theory]
    [InlineData("normalizer", "{\"type\": \"Lowercase\"}", "normalizer")]
    [InlineData("pre_tokenizer", "{\"type\": \"Whitespace\"}", "pre_tokenizer type 'Whitespace'")]
    [InlineData("decoder", "{\"type\": \"WordPiece\"}", "decoder type 'WordPiece'")]
    [InlineData("post_processor", "{\"type\": \"BertProcessing\"}", "post_processor")]
    public void UnsupportedComponentsAreRejectedByName(string key, string value, string message)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "tokenizer.json")))!;
        json[key] = System.Text.Json.Nodes.JsonNode.Parse(value);
        var path = Path.Combine(Fixtures.TempDir(), "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<MlsaeException>(() => Tokenizer.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void OtherModelTypesAreRejectedByName()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "tokenizer.json")))!;
        json["model"]!["type"] = "WordPiece";
        var path = Path.Combine(Fixtures.TempDir(), "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        Assert.Contains("model type 'WordPiece'", Assert.Throws<MlsaeException>(() => Tokenizer.Load(path)).Message);
    }

    [Fact]
    public void MergesAsPairsReadLikeMergesAsStrings()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "tokenizer.json")))!;
        var merges = json["model"]!["merges"]!.AsArray();
        var pairs = new System.Text.Json.Nodes.JsonArray();
        foreach (var m in merges)
        {
            var s = m!.GetValue<string>();
            int space = s.IndexOf(' ', 1);
            pairs.Add(new System.Text.Json.Nodes.JsonArray(s[..space], s[(space + 1)..]));
        }
        json["model"]!["merges"] = pairs;
        json["model"]!["byte_fallback"] = false;
        json["model"]!["ignore_merges"] = false;
        var path = Path.Combine(Fixtures.TempDir(), "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        var paired = Tokenizer.Load(path);
        var text = "The quick brown fox — don't stop 123 \U0001F600  spaces";
        Assert.Equal(Tok.Encode(text), paired.Encode(text));
    }
}

public class TokenizerRobustnessTests
{
    [Fact]
    public void LoneSurrogatesBecomeReplacementCharacters()
    {
        var tok = Tokenizer.Load(Fixtures.Path("tokenizer"));
        Assert.Equal(tok.Encode("a\uFFFDb"), tok.Encode("a\uD800b"));
        Assert.Equal(tok.Encode("\U0001F600"), tok.Encode("\uD83D\uDE00"));
    }
}

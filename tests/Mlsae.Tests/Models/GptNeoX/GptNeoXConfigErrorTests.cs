using Mlsae.Models;
using Mlsae.Tests.Tokenization;
using Xunit;

namespace Mlsae.Tests.Models;

/// <summary>A config.json field of the wrong JSON type or out of range is one <see cref="MlsaeException"/>
/// line naming the file and the field, never a silently used default or a later shape error.</summary>
public class GptNeoXConfigErrorTests
{
    static readonly string FixturePath = Fixtures.Path("gpt_neox", "modelB", "config.json");

    /// <summary>Loads model B's config.json with <paramref name="key"/> set to <paramref name="value"/> (removed when null).</summary>
    static string LoadError(string key, string? value)
    {
        var path = JsonEdit.Write("config.json", JsonEdit.Apply(JsonEdit.Read(FixturePath), key, value));
        var e = Assert.Throws<MlsaeException>(() => GptNeoXConfig.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message[(path.Length + 2)..];
    }

    [Theory]
    [InlineData("hidden_size", "\"64\"", "\"hidden_size\" must be an integer, got \"64\"")]
    [InlineData("hidden_size", "48.5", "\"hidden_size\" must be an integer, got 48.5")]
    [InlineData("hidden_size", "null", "\"hidden_size\" must be an integer, got null")]
    [InlineData("hidden_size", "[48]", "\"hidden_size\" must be an integer, got an array")]
    [InlineData("num_attention_heads", "\"3\"", "\"num_attention_heads\" must be an integer, got \"3\"")]
    [InlineData("num_hidden_layers", "true", "\"num_hidden_layers\" must be an integer, got true")]
    [InlineData("intermediate_size", "{}", "\"intermediate_size\" must be an integer, got an object")]
    [InlineData("vocab_size", "\"97\"", "\"vocab_size\" must be an integer, got \"97\"")]
    [InlineData("max_position_embeddings", "\"64\"", "\"max_position_embeddings\" must be an integer, got \"64\"")]
    [InlineData("layer_norm_eps", "\"1e-6\"", "\"layer_norm_eps\" must be a finite number, got \"1e-6\"")]
    [InlineData("layer_norm_eps", "1e400", "\"layer_norm_eps\" must be a finite number, got 1e400")]
    [InlineData("rotary_pct", "\"1.0\"", "\"rotary_pct\" must be a finite number, got \"1.0\"")]
    [InlineData("rotary_emb_base", "[1000]", "\"rotary_emb_base\" must be a finite number, got an array")]
    [InlineData("rope_theta", "\"x\"", "\"rope_theta\" must be a finite number, got \"x\"")]
    [InlineData("partial_rotary_factor", "false", "\"partial_rotary_factor\" must be a finite number, got false")]
    [InlineData("rope_parameters", "[]", "\"rope_parameters\" must be an object, got an array")]
    [InlineData("use_parallel_residual", "\"false\"", "\"use_parallel_residual\" must be true or false, got \"false\"")]
    [InlineData("use_parallel_residual", "null", "\"use_parallel_residual\" must be true or false, got null")]
    [InlineData("attention_bias", "1", "\"attention_bias\" must be true or false, got 1")]
    [InlineData("tie_word_embeddings", "\"no\"", "\"tie_word_embeddings\" must be true or false, got \"no\"")]
    [InlineData("hidden_act", "5", "\"hidden_act\" must be a string, got 5")]
    [InlineData("torch_dtype", "16", "\"torch_dtype\" must be a string, got 16")]
    [InlineData("dtype", "[]", "\"dtype\" must be a string, got an array")]
    [InlineData("model_type", "1", "\"model_type\" must be a string, got 1")]
    [InlineData("bos_token_id", "\"0\"", "\"bos_token_id\" must be an integer, got \"0\"")]
    [InlineData("eos_token_id", "[0, \"a\"]", "\"eos_token_id[1]\" must be an integer, got \"a\"")]
    [InlineData("pad_token_id", "0.5", "\"pad_token_id\" must be an integer, got 0.5")]
    public void FieldOfTheWrongTypeIsAnErrorNamingIt(string key, string value, string expected)
    {
        Assert.Equal(expected, LoadError(key, value));
    }

    [Theory]
    [InlineData("hidden_size", "0", "\"hidden_size\" must be positive, got 0")]
    [InlineData("hidden_size", "-48", "\"hidden_size\" must be positive, got -48")]
    [InlineData("hidden_size", "1e12", "\"hidden_size\" must be at most 131072, got 1000000000000")]
    [InlineData("num_attention_heads", "0", "\"num_attention_heads\" must be positive, got 0")]
    [InlineData("num_attention_heads", "5", "\"num_attention_heads\" must divide \"hidden_size\" (hidden_size 48 is not divisible by num_attention_heads 5)")]
    [InlineData("num_hidden_layers", "0", "\"num_hidden_layers\" must be positive, got 0")]
    [InlineData("num_hidden_layers", "100000", "\"num_hidden_layers\" must be at most 1024, got 100000")]
    [InlineData("intermediate_size", "-1", "\"intermediate_size\" must be positive, got -1")]
    [InlineData("vocab_size", "10000000", "\"vocab_size\" must be at most 4194304, got 10000000")]
    [InlineData("vocab_size", "0", "\"vocab_size\" must be positive, got 0")]
    [InlineData("max_position_embeddings", "0", "\"max_position_embeddings\" must be positive, got 0")]
    [InlineData("max_position_embeddings", "-64", "\"max_position_embeddings\" must be positive, got -64")]
    [InlineData("rotary_pct", "0", "\"rotary_pct\" must be in (0, 1], got 0")]
    [InlineData("rotary_pct", "1.5", "\"rotary_pct\" must be in (0, 1], got 1.5")]
    [InlineData("rotary_pct", "-0.25", "\"rotary_pct\" must be in (0, 1], got -0.25")]
    [InlineData("rotary_pct", "0.1875", "\"rotary_pct\" gives odd rotary dims int(16·0.1875) = 3; they must be even")]
    [InlineData("layer_norm_eps", "0", "\"layer_norm_eps\" must be a positive number, got 0")]
    [InlineData("layer_norm_eps", "-1e-5", "\"layer_norm_eps\" must be a positive number, got -1E-05")]
    [InlineData("rotary_emb_base", "0", "\"rotary_emb_base\" must be a positive number, got 0")]
    public void FieldOutOfRangeIsAnErrorNamingIt(string key, string value, string expected)
    {
        Assert.StartsWith(expected, LoadError(key, value));
    }

    [Fact]
    public void WholeFileProblemsAreOneErrorNamingTheFile()
    {
        var text = File.ReadAllText(FixturePath);
        foreach (var (content, expected) in new[]
        {
            ("[]", "must hold a JSON object, got an array"),
            (text[..(text.Length / 2)], "invalid JSON ("),
            ("{\"hidden_size\": \"\\ud800\"}", "invalid JSON (the string at byte 16 escapes an unpaired UTF-16 surrogate)"),
        })
        {
            var path = JsonEdit.Write("config.json", content);
            var e = Assert.Throws<MlsaeException>(() => GptNeoXConfig.Load(path));
            Assert.StartsWith($"{path}: {expected}", e.Message);
        }
    }

    [Fact]
    public void IntegralFloatsAndNullOptionalsAreAccepted()
    {
        // transformers writes some sizes as floats after arithmetic; ids and dtype may be null.
        var node = JsonEdit.Read(FixturePath);
        foreach (var (key, value) in new[] { ("hidden_size", "48.0"), ("vocab_size", "9.7e1"), ("pad_token_id", "null"), ("torch_dtype", "null"), ("rope_scaling", "null"), ("eos_token_id", "[0, 2]") })
            JsonEdit.Apply(node, key, value);
        var c = GptNeoXConfig.Load(JsonEdit.Write("config.json", node));
        Assert.Equal(48, c.HiddenSize);
        Assert.Equal(97, c.VocabSize);
        Assert.Null(c.PadTokenId);
        Assert.Equal(0, c.EosTokenId);
        Assert.Equal("float32", c.TorchDtype);
    }
}

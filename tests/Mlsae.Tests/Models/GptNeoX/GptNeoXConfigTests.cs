using System.Text.Json.Nodes;
using Mlsae.Models;
using Xunit;

namespace Mlsae.Tests.Models;

public class GptNeoXConfigTests
{
    static JsonObject Classic() => JsonNode.Parse(File.ReadAllText(Fixtures.Path("gpt_neox", "modelC", "config.json")))!.AsObject();

    [Fact]
    public void ReadsClassicKeys()
    {
        var c = GptNeoXConfig.FromJson(Classic(), "c");
        Assert.Equal(32, c.HiddenSize);
        Assert.Equal(8, c.RotaryNdims);
        Assert.Equal(10000, c.RotaryEmbBase);
        Assert.True(c.UseParallelResidual);
        Assert.Equal("bfloat16", c.TorchDtype);
    }

    [Fact]
    public void ReadsNewerKeySpellings()
    {
        var j = Classic();
        j.Remove("rotary_pct"); j.Remove("rotary_emb_base"); j.Remove("torch_dtype");
        j["partial_rotary_factor"] = 0.25; j["rope_theta"] = 500.0; j["dtype"] = "float16";
        var c = GptNeoXConfig.FromJson(j, "c");
        Assert.Equal(0.25, c.RotaryPct);
        Assert.Equal(500, c.RotaryEmbBase);
        Assert.Equal("float16", c.TorchDtype);

        var v5 = Classic();
        v5.Remove("rotary_pct"); v5.Remove("rotary_emb_base");
        v5["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 123.0, ["partial_rotary_factor"] = 0.5 };
        var c5 = GptNeoXConfig.FromJson(v5, "c");
        Assert.Equal(123, c5.RotaryEmbBase);
        Assert.Equal(0.5, c5.RotaryPct);
    }

    [Theory]
    [InlineData("rope_scaling", "{\"type\":\"linear\",\"factor\":2.0}", "rope_scaling")]
    [InlineData("hidden_act", "\"gelu_python_weird\"", "hidden_act 'gelu_python_weird'")]
    [InlineData("model_type", "\"llama\"", "model_type 'llama'")]
    [InlineData("num_attention_heads", "5", "not divisible")]
    [InlineData("rope_parameters", "{\"rope_type\":\"yarn\",\"factor\":4.0}", "rope_type 'yarn'")]
    public void UnsupportedValuesAreRejected(string key, string value, string message)
    {
        var j = Classic();
        j[key] = JsonNode.Parse(value);
        var e = Assert.Throws<MlsaeException>(() => GptNeoXConfig.FromJson(j, "cfg.json"));
        Assert.Contains("cfg.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void WrittenConfigReadsBackTheSame()
    {
        var c = GptNeoXConfig.FromJson(Classic(), "c");
        var again = GptNeoXConfig.FromJson(JsonNode.Parse(c.ToJson())!.AsObject(), "again");
        Assert.Equal(c, again);
    }
}

using System.Text;
using Mlsae.Autoencoder;
using Mlsae.Data;
using Mlsae.Models;
using Mlsae.Tokenization;
using Xunit;

namespace Mlsae.Tests;

/// <summary>Inputs the fuzz harness (bench/Mlsae.Fuzz) found crashing parsers: each must now load or
/// fail with one <see cref="MlsaeException"/>.</summary>
public class FuzzRegressionTests
{
    static string Write(string name, byte[] bytes)
    {
        var dir = Fixtures.TempDir();
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static void Clean(Action load)
    {
        try { load(); }
        catch (MlsaeException e) { Assert.DoesNotContain('\n', e.Message); }
    }

    const string Bpe = "{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"BPE\",";

    [Theory]
    [InlineData("eyJwcmVfdG9rZW5pemVyIjp7InR5cGUiOiJCeXRlTGV2ZWwifSwibW9kZWwiOnsidHlwZSI6IkJQRSIsInZvY2FiIjp7Iv8iOjB9LCJtZXJnZXMiOltdfX0=")]
    public void TokenizerBytes(string base64) => Clean(() => Tokenizer.Load(Write("tokenizer.json", Convert.FromBase64String(base64))));

    [Theory]
    [InlineData(Bpe + "\"vocab\":{\"\\ud800\":0},\"merges\":[]}}")]
    [InlineData(Bpe + "\"vocab\":{},\"merges\":[]},\"added_tokens\":[{\"content\":\"x\"}]}")]
    [InlineData(Bpe + "\"vocab\":{\"a\":-1},\"merges\":[]}}")]
    [InlineData(Bpe + "\"vocab\":{\"a\":1.5},\"merges\":[]}}")]
    [InlineData(Bpe + "\"vocab\":{\"a\":\"x\"},\"merges\":[]}}")]
    [InlineData(Bpe + "\"vocab\":{\"a\":2147483647},\"merges\":[]}}")]
    [InlineData(Bpe + "\"vocab\":{\"a\":1500000000},\"merges\":[]}}")]
    [InlineData(Bpe + "\"vocab\":{\"a\":0},\"merges\":[[1,2]]}}")]
    [InlineData(Bpe + "\"vocab\":[],\"merges\":[]}}")]
    [InlineData(Bpe + "\"vocab\":{\"a\":0},\"merges\":{}}}")]
    public void TokenizerJson(string json) => Clean(() => Tokenizer.Load(Write("tokenizer.json", Encoding.UTF8.GetBytes(json))));

    [Theory]
    [InlineData("{\"model_type\":\"gpt_neox\",\"model_type\":\"gpt_neox\"}")]
    [InlineData("{\"model_type\":\"\\ud800\"}")]
    public void NeoXConfig(string json)
    {
        var path = Write("config.json", Encoding.UTF8.GetBytes(json));
        Clean(() => GptNeoXConfig.Load(path));
        Clean(() => ModelRegistry.ModelType(Path.GetDirectoryName(path)!));
    }

    [Theory]
    [InlineData("{\"k\":1,\"k\":2}")]
    [InlineData("{\"n_inputs\":\"\\ud800\"}")]
    public void SaeConfig(string json) => Clean(() => MlsaeConfig.FromJson(json, "config.json"));

    [Fact]
    public void JsonlSurrogate() => Clean(() => TextDocuments.Read(Write("d.jsonl", Encoding.UTF8.GetBytes("{\"text\":\"\\ud800\"}\n"))).ToList());
}

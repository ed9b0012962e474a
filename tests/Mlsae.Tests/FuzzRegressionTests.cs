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
    [InlineData("eyJ2ZXJzaW9uIjoiMS4wIiwidHJ1bmNhdGlvbiI6bnVsbCwiaW5zIjpbeyJkIjpmYWxzZX1dLCJub3JtYWxpemVyIjp7InR5cGUiOiJORkMifSwicHJlX3Rva2VuaXplciI6eyJ0eXBlIjoiQnl0ZUxldmVsIiwiYWRkX3ByZWZpeF9zcGFjZSI6ZmFsc2UsInRyaSkiOnRydWV9LCJwb3N0X3Byb2Nlc3NvciI6eyJ0eXBlIjoiQnl0ZUxldmVsIiwiYSI6dHJ1ZX0sImRlY29kZXIiOnsidHlwZSI6IkJ5dGVMZXZlbCIsImFkZF9wcmVmaXhfXHVkODAwc3BhY2UiOmZhbHNlLCJ0cmltX29mZnNldHMiOnRydWV9LCJtb2RlbCI6eyJ0eXBlIjoiQlRFIiwiZHV0IjpudWxsLCJ1bmtlbiI6bnVsbCwiY2l4IjpudWxsLCJmdSI6eyIiOjE4LCIyIjoxOSwiMyI6MSwiNSI6MjgsIjYiOjIzLCI3IjoyNCwiIjo4LCIoIjo5LCIpIjoxMCwiKiI6MTEsIlx1MDAyQiI6MTIsIiwiOjQsIi4iOjE1LCIvIjoxNiwiXHUwMEI3IjoxMTcsIlx1MDBCOCI6MTE4LCJcdTAwQjkiOjExOSwiQkEiOjEzNiwiXHUwMENCIjoxMzcsIlx1MDBDQ0QiOjEzOSwiQ0UiOjE0MCwiXHUwMENGIjoxNDEsIlx1MDBEMCI6MTQyLCJcdTAwRDEiOjE0MywiNSI6MTc5LCJGNiI6MTgwLCJcdTAwRjciOjE4MSwiXHUwMEY4IjoxODIsIlx1MDBGOSI6MTgzLCJGQSI6MjAwLCJcdTAxMEIiOjIwMSwiXHUwMTBDRCI6MjAzLCIwRSI6MjA0LCJcdTAxMEYiOjIwNSwiXHUwMTEwIjoyMDYsIlx1MDExOSI6MjMxLCIyQSI6MjMyLCJcdTAxMkIiOjIzMywiXHUwMTJDIjoyMzQsIlwiXHUwMTM3IjoyNDUsIlx1MDEzOCI6MjQ2LCJcdTAxMzkiOjI0NywiM0EiOjI3Nywib3IiOjI3OCwiaW8yMGYiOjI4NiwibmQwbSI6Mjg4LCJcdTAxMEFcdTAxMjEyMFx1MDEyMTIwIjoyODkyLCJcdTAxMDEyMFx1MDEyMTIwXHUwMTIxMjBcdTAxMjEyMFx1MDEyMCI6Mjk3LCIyMGwiOjI5OCwiXHUwMTIwaW4iOjI5OX0sIm1lIjpbIiBsIiwiXHUwMTIwIGluIl19fQ==")]   // an unpaired surrogate escape in a key
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
    [InlineData("ewogICJhcmNlcyI6IFsKICAgICJMTSIKICBdLAogICJhdHRlbnRpb25fYmlhcyI6IHRydWUsCiAgImF0b3V0IjogMC4wLAogICJib3NfdG9rZW5faWQiOiAwLAogICJjdCI6IDAuMSwKICAiZW9zX3RvIjogImdlbHUiLAogICJoaWRvdXQiOiAwLjAsCiAgImhpZGRlbl9zaXplIjogNDgsCiAgImkiOiAwLjAyLAogICJpbnRlcm1lZGlhdGVfc2l6ZSI6IDE5MiwKICAibGF5ZXJfbm9ybV9lcHMiOiAxZS0wNiwKICAibWF4X3Bvc2l0aW9cdWQ4MDBuX2VtYmVkZGluZ3MiOiA2NCwKICAibW9kZWxfdHlwZSI6ICJncHRfbmVveCIsCiAgIm51bV9hdHRlbnRpb25faGVhZHMiOiAzLAogICJudW1faGlkZGVuX2xheWVycyI6IDIsCiAgInJvcGVfc2NhbGluZyI6IG51bGwsCiAgInJvdGFyeV9lbWJfYmFzZSI6IDEwMDAsCiAgInJvdGFyeV9wY3QiOiAxLjAsCiAgInRpZV93b3JkX2VtYmVkZGluZ3MiOiBmYWxzZSwKICAidG9yY2hfZHR5cGUiOiAiZmxvYXQxNiIsCiAgInRyb24iOiAiNC4iLAogICJ1c2NoZSI6IHRydWUsCiAgInVzZV9wYXJhbGxlbF9yZXNpZHVhbCI6IGZhbHNlLAogICJ2b2NhYl9zaXplIjogOTcKfQo=")]   // an unpaired surrogate escape in a key
    public void NeoXConfigBytes(string base64) => Clean(() => GptNeoXConfig.Load(Write("config.json", Convert.FromBase64String(base64))));

    [Theory]
    [InlineData("{\"k\":1,\"k\":2}")]
    [InlineData("{\"n_inputs\":\"\\ud800\"}")]
    public void SaeConfig(string json) => Clean(() => MlsaeConfig.FromJson(json, "config.json"));

    [Fact]
    public void JsonlSurrogate() => Clean(() => TextDocuments.Read(Write("d.jsonl", Encoding.UTF8.GetBytes("{\"text\":\"\\ud800\"}\n"))).ToList());
}

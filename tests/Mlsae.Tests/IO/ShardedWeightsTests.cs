using System.Text.Json;
using Mlsae.IO;
using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.IO;

public class ShardedWeightsTests
{
    [Fact]
    public void ShardedSafetensorsLoadLikeOneFile()
    {
        using var scope = NewDisposeScope();
        var dir = Fixtures.TempDir();
        var source = Fixtures.Path("gpt_neox", "modelB");
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(dir, "config.json"));
        var all = Fixtures.ReadAll(Path.Combine(source, "model.safetensors"));
        var names = all.Keys.Order().ToList();
        var map = new Dictionary<string, string>();
        for (int s = 0; s < 2; s++)
        {
            var file = $"model-0000{s + 1}-of-00002.safetensors";
            var part = names.Where((_, i) => i % 2 == s).ToDictionary(n => n, n => all[n]);
            SafeTensorsWriter.Write(Path.Combine(dir, file), part);
            foreach (var n in part.Keys) map[n] = file;
        }
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"),
            JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));
        var expected = Fixtures.ReadAll(Fixtures.Path("gpt_neox", "modelB_expected.safetensors"));
        using var gpt = GptNeoXLoader.Load(dir);
        using var output = gpt.Forward(expected["tokens"]);
        Fixtures.AssertClose(expected["hidden_states"], output.HiddenStates, 1e-4, 1e-4, "sharded hidden_states");
    }

    [Fact]
    public void IndexNamingAMissingShardIsAnError()
    {
        var dir = Fixtures.TempDir();
        var index = Path.Combine(dir, "model.safetensors.index.json");
        File.WriteAllText(index, "{\"weight_map\": {\"embed_out.weight\": \"model-00002-of-00002.safetensors\"}}");
        var e = Assert.Throws<MlsaeException>(() => WeightSource.OpenFile(index));
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains("embed_out.weight", e.Message);
    }

    [Theory]
    [InlineData("../secret.safetensors")]
    [InlineData("sub/../../secret.safetensors")]
    [InlineData("{abs}")]
    public void IndexNamingAShardOutsideTheModelFolderIsAnError(string shard)
    {
        // The secret exists and is a valid checkpoint: only the containment check stands in the way.
        var parent = Fixtures.TempDir();
        var secret = Path.Combine(parent, "secret.safetensors");
        File.Copy(Fixtures.Path("gpt_neox", "modelB", "model.safetensors"), secret);
        shard = shard.Replace("{abs}", secret);
        var dir = Path.Combine(parent, "model");
        Directory.CreateDirectory(dir);
        var index = Path.Combine(dir, "model.safetensors.index.json");
        File.WriteAllText(index, JsonSerializer.Serialize(new { weight_map = new Dictionary<string, string> { ["embed_out.weight"] = shard } }));
        var e = Assert.Throws<MlsaeException>(() => WeightSource.OpenFile(index));
        Assert.Contains(index, e.Message);
        Assert.Contains($"'{shard}'", e.Message);
    }
}

public class ShardedWeightsHostileTests
{
    [Theory]
    [InlineData("{\"weight_map\": {\"embed_out.weight\": 5}}", "weight_map entry for tensor 'embed_out.weight' must be a shard file name, not Number")]
    [InlineData("{\"weight_map\": {\"embed_out.weight\": null}}", "not Null")]
    [InlineData("{\"weight_map\": {\"embed_out.weight\": [\"a\"]}}", "not Array")]
    [InlineData("{\"weight_map\": {\"embed_out.weight\": \"a\\u0000b.safetensors\"}}", "contains a NUL character")]
    [InlineData("{\"weight_map\": []}", "no weight_map object")]
    [InlineData("[1]", "no weight_map object")]
    [InlineData("{\"weight_map\": {\"\\ud800\": \"a.safetensors\"}}", "unpaired UTF-16 surrogate")]
    public void BadIndexValuesAreErrorsNamingTheIndex(string json, string mention)
    {
        var index = Path.Combine(Fixtures.TempDir(), "model.safetensors.index.json");
        File.WriteAllText(index, json);
        var e = Assert.Throws<MlsaeException>(() => WeightSource.OpenFile(index));
        Assert.Contains(index, e.Message);
        Assert.Contains(mention, e.Message);
    }

    [Fact]
    public void InvalidUtf8IndexIsAnError()
    {
        var index = Path.Combine(Fixtures.TempDir(), "model.safetensors.index.json");
        File.WriteAllBytes(index, [.. "{\"weight_map\": {\""u8, 0xff, .. "\": \"a.safetensors\"}}"u8]);
        Assert.Contains("invalid UTF-8 at byte 17", Assert.Throws<MlsaeException>(() => WeightSource.OpenFile(index)).Message);
    }
}

using Mlsae.IO;
using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Models;

public class GptNeoXLoaderTests
{
    static string CopyModelB(Action<Dictionary<string, Tensor>> edit)
    {
        var dir = Fixtures.TempDir();
        var source = Fixtures.Path("gpt_neox", "modelB");
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(dir, "config.json"));
        var tensors = Fixtures.ReadAll(Path.Combine(source, "model.safetensors"));
        edit(tensors);
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
        return dir;
    }

    [Fact]
    public void MissingWeightIsAnErrorNamingTheKey()
    {
        using var scope = NewDisposeScope();
        var dir = CopyModelB(t => t.Remove("gpt_neox.layers.1.mlp.dense_4h_to_h.bias"));
        var e = Assert.Throws<MlsaeException>(() => GptNeoXLoader.Load(dir));
        Assert.Contains("missing weight 'gpt_neox.layers.1.mlp.dense_4h_to_h.bias'", e.Message);
    }

    [Fact]
    public void MisShapedWeightIsAnErrorNamingTheKey()
    {
        using var scope = NewDisposeScope();
        var dir = CopyModelB(t => t["gpt_neox.final_layer_norm.weight"] = zeros(47));
        var e = Assert.Throws<MlsaeException>(() => GptNeoXLoader.Load(dir));
        Assert.Contains("'gpt_neox.final_layer_norm.weight' has shape [47], expected [48]", e.Message);
    }

    [Fact]
    public void LegacyBuffersAreIgnoredInAnyDTypeAndUnknownTensorsRejected()
    {
        using var scope = NewDisposeScope();
        // Model B carries attention.bias (U8), masked_bias (F32 scalar) and inv_freq (F16); drop them all.
        var stripped = CopyModelB(t =>
        {
            foreach (var k in t.Keys.Where(GptNeoXLoader.IsLegacyBuffer).ToList()) t.Remove(k);
            t["gpt_neox.rotary_emb.inv_freq"] = ones(8, dtype: ScalarType.BFloat16);
        });
        using (GptNeoXLoader.Load(stripped)) { }
        var extra = CopyModelB(t => t["gpt_neox.layers.0.attention.surprise"] = zeros(3));
        var e = Assert.Throws<MlsaeException>(() => GptNeoXLoader.Load(extra));
        Assert.Contains("unexpected tensor 'gpt_neox.layers.0.attention.surprise'", e.Message);
    }

    [Fact]
    public void FolderWithoutWeightsOrConfigIsAnError()
    {
        var dir = Fixtures.TempDir();
        Assert.Contains("config.json: file not found", Assert.Throws<MlsaeException>(() => GptNeoXLoader.Load(dir)).Message);
        File.Copy(Fixtures.Path("gpt_neox", "modelB", "config.json"), Path.Combine(dir, "config.json"));
        Assert.Contains("no weights found", Assert.Throws<MlsaeException>(() => GptNeoXLoader.Load(dir)).Message);
    }

    [Fact]
    public void CreatedModelSavesInHfLayoutAndReloadsIdentically()
    {
        using var scope = NewDisposeScope();
        var config = new GptNeoXConfig { HiddenSize = 32, NumAttentionHeads = 4, NumHiddenLayers = 2, IntermediateSize = 64, VocabSize = 50, TorchDtype = "float16" };
        using var model = GptNeoXInit.Create(config, seed: 3);
        var dir = Fixtures.TempDir();
        GptNeoXWriter.Save(model, dir);
        using var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        Assert.All(file.Names, n => Assert.Equal(ScalarType.Float16, file.DType(n)));
        Assert.Contains("gpt_neox.layers.1.attention.query_key_value.weight", file.Names);
        Assert.Equal(new long[] { 96, 32 }, file.Shape("gpt_neox.layers.1.attention.query_key_value.weight"));
        Assert.Contains("embed_out.weight", file.Names);
        using var reloaded = GptNeoXLoader.Load(dir);
        var tokens = randint(0, 50, [2, 9]);
        using var a = model.Forward(tokens, logits: true);
        using var b = reloaded.Forward(tokens, logits: true);
        // The saved weights are fp16, so only the fp16 rounding of N(0, 0.02) weights separates them.
        Fixtures.AssertClose(a.Logits!, b.Logits!, 1e-3, 1e-2, "logits after fp16 round trip");
        using var again = GptNeoXInit.Create(config, seed: 3);
        Assert.True(again.parameters().Zip(model.parameters()).All(p => p.First.eq(p.Second).all().item<bool>()), "same seed, same weights");
    }
}

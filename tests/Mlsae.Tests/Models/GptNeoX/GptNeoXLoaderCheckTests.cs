using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Tests.Tokenization;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Models;

/// <summary>The loader checks config.json against the weight file's header, and the memory the model
/// needs against the machine's, before it creates any module.</summary>
public class GptNeoXLoaderCheckTests
{
    static readonly string ModelB = Fixtures.Path("gpt_neox", "modelB");

    /// <summary>A folder with model B's weights and its config.json edited.</summary>
    static string WithConfig(params (string Key, string? Value)[] edits)
    {
        var dir = Fixtures.TempDir();
        File.Copy(Path.Combine(ModelB, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var config = JsonEdit.Read(Path.Combine(ModelB, "config.json"));
        foreach (var (key, value) in edits) JsonEdit.Apply(config, key, value);
        JsonEdit.Write("config.json", config, dir);
        return dir;
    }

    static string LoadError(string dir)
    {
        var e = Assert.Throws<MlsaeException>(() => GptNeoXLoader.Load(dir));
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void WeightShapesAreTheModelsParametersInOrder(bool attentionBias, bool tied)
    {
        var config = new GptNeoXConfig { HiddenSize = 16, NumAttentionHeads = 2, NumHiddenLayers = 2, IntermediateSize = 24, VocabSize = 30, AttentionBias = attentionBias, TieWordEmbeddings = tied };
        using var model = new GptNeoX(config);
        var parameters = model.named_parameters().Select(p => (p.name, p.parameter.shape)).ToList();
        var shapes = GptNeoXLoader.WeightShapes(config);
        Assert.Equal(parameters.Select(p => p.name), shapes.Select(s => s.Name));
        Assert.All(parameters.Zip(shapes), p => Assert.Equal(p.First.shape, p.Second.Shape));
        long distinct = model.named_parameters().Where(p => !(tied && p.name == "embed_out.weight")).Sum(p => p.parameter.numel());
        Assert.Equal(distinct, GptNeoXLoader.ParameterCount(config));
        Assert.Equal(4 * distinct, GptNeoXLoader.LoadBytes(config));
    }

    [Fact]
    public void AHugeConfigFailsOnTheWeightFilesShapesWithoutAllocating()
    {
        // 4M × 131072 embeddings alone would be 2 TB in float32: an allocation would never return.
        var dir = WithConfig(("hidden_size", "131072"), ("num_attention_heads", "1"), ("vocab_size", "4194304"), ("intermediate_size", "1048576"));
        Assert.Equal($"{Path.Combine(dir, "model.safetensors")}: weight 'gpt_neox.embed_in.weight' has shape [97, 48], expected [4194304, 131072] from config.json",
            LoadError(dir));
    }

    [Theory]
    [InlineData("intermediate_size", "200", "weight 'gpt_neox.layers.0.mlp.dense_h_to_4h.weight' has shape [192, 48], expected [200, 48] from config.json")]
    [InlineData("num_hidden_layers", "3", "missing weight 'gpt_neox.layers.2.input_layernorm.weight'")]
    [InlineData("num_hidden_layers", "1", "unexpected tensor 'gpt_neox.layers.1.")]
    [InlineData("vocab_size", "98", "weight 'gpt_neox.embed_in.weight' has shape [97, 48], expected [98, 48] from config.json")]
    [InlineData("attention_bias", "false", "unexpected tensor 'gpt_neox.layers.0.attention.dense.bias'")]
    public void FirstMismatchWithTheWeightFileIsNamed(string key, string value, string expected)
    {
        Assert.Contains(expected, LoadError(WithConfig((key, value))));
    }

    [Fact]
    public void NonFloatWeightIsRejectedBeforeLoading()
    {
        using var scope = NewDisposeScope();
        var dir = Fixtures.TempDir();
        File.Copy(Path.Combine(ModelB, "config.json"), Path.Combine(dir, "config.json"));
        var tensors = Fixtures.ReadAll(Path.Combine(ModelB, "model.safetensors"));
        tensors["gpt_neox.final_layer_norm.weight"] = zeros(48, ScalarType.Int64);
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors);
        Assert.Contains("weight 'gpt_neox.final_layer_norm.weight' has non-float dtype Int64", LoadError(dir));
    }

    [Fact]
    public void AModelLargerThanTheMachineIsRefusedWithTheNumbers()
    {
        var config = GptNeoXConfig.Load(Path.Combine(ModelB, "config.json"));
        long parameters = GptNeoXLoader.ParameterCount(config);
        var e = Assert.Throws<MlsaeException>(() => GptNeoXLoader.Load(ModelB, null, ScalarType.Float32, availableBytes: 1000));
        Assert.StartsWith($"{ModelB}: loading the model needs ", e.Message);
        Assert.Contains($"({parameters:N0} parameters × 4 bytes", e.Message);
        Assert.Contains("more than the 1,000 bytes this machine has (GC.GetGCMemoryInfo().TotalAvailableMemoryBytes); choose a smaller --model", e.Message);
        // A consistent but enormous config against this machine's real memory.
        var huge = new GptNeoXConfig { HiddenSize = 131072, NumAttentionHeads = 1, NumHiddenLayers = 1024, IntermediateSize = 1 << 20, VocabSize = 1 << 22 };
        Assert.True(Mlsae.Tensors.MachineMemory.AvailableBytes() > 0);
        Assert.Contains("choose a smaller --model", Assert.Throws<MlsaeException>(() => GptNeoXLoader.CheckMemory(huge, "huge", Mlsae.Tensors.MachineMemory.AvailableBytes())).Message);
        GptNeoXLoader.CheckMemory(config, ModelB, Mlsae.Tensors.MachineMemory.AvailableBytes());
    }
}

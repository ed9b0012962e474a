using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Models;

public class ModelRegistryTests
{
    static string FolderWithConfig(string json)
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), json);
        return dir;
    }

    [Fact]
    public void GptNeoXFolderLoadsAsGptNeoXWithItsConfigFacts()
    {
        using var scope = NewDisposeScope();
        var folder = Fixtures.Path("gpt_neox", "modelB");
        Assert.Contains("gpt_neox", ModelRegistry.ModelTypes);
        Assert.Equal("gpt_neox", ModelRegistry.ModelType(folder));
        using var model = ModelRegistry.Load(folder);
        Assert.IsType<GptNeoX>(model);
        Assert.Equal("gpt_neox", model.Config.ModelType);
        Assert.Equal(2, model.Config.NumHiddenLayers);
        Assert.Equal(48, model.Config.HiddenSize);
        Assert.Equal(97, model.Config.VocabSize);
        Assert.Equal(64, model.Config.MaxPositionEmbeddings);
        Assert.Equal(folder, model.TokenizerFolder);
        Assert.Equal(ScalarType.Float32, model.DType);

        // The registry's model is the loader's model: same numbers, bit for bit.
        using var direct = GptNeoXLoader.Load(folder);
        var tokens = Fixtures.ReadAll(Fixtures.Path("gpt_neox", "modelB_expected.safetensors"))["tokens"];
        using var viaRegistry = model.Forward(tokens, logits: true);
        using var viaLoader = direct.Forward(tokens, logits: true);
        Assert.True(viaRegistry.HiddenStates.eq(viaLoader.HiddenStates).all().item<bool>());
        Assert.True(viaRegistry.Logits!.eq(viaLoader.Logits!).all().item<bool>());
    }

    [Fact]
    public void ComputeDTypeIsPassedToTheLoader()
    {
        using var model = ModelRegistry.Load(Fixtures.Path("gpt_neox", "modelC"), CPU, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, model.DType);
    }

    [Fact]
    public void UnknownModelTypeIsAOneLineErrorNamingTheFileAndTheSupportedTypes()
    {
        var dir = FolderWithConfig("{\"model_type\": \"llama\", \"hidden_size\": 64}");
        var e = Assert.Throws<MlsaeException>(() => ModelRegistry.Load(dir));
        Assert.Equal($"{Path.Combine(dir, "config.json")}: model_type 'llama' is not supported (supported: gpt_neox)", e.Message);
    }

    [Theory]
    [InlineData("{\"hidden_size\": 64}", "no model_type (supported: gpt_neox)")]
    [InlineData("{\"model_type\": 7}", "no model_type (supported: gpt_neox)")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("{nope", "invalid JSON")]
    public void MissingOrMalformedModelTypeIsAnErrorNamingTheFile(string json, string message)
    {
        var dir = FolderWithConfig(json);
        var e = Assert.Throws<MlsaeException>(() => ModelRegistry.Load(dir));
        Assert.StartsWith($"{Path.Combine(dir, "config.json")}: {message}", e.Message);
    }

    [Fact]
    public void MissingFolderOrConfigIsAnError()
    {
        var dir = Fixtures.TempDir();
        Assert.Contains("config.json: file not found", Assert.Throws<MlsaeException>(() => ModelRegistry.Load(dir)).Message);
        var missing = Path.Combine(dir, "absent");
        Assert.Equal($"{missing}: model folder not found", Assert.Throws<MlsaeException>(() => ModelRegistry.Load(missing)).Message);
    }
}

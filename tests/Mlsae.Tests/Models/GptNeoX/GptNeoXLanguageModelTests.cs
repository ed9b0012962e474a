using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Models;

/// <summary>GPT-NeoX as an <see cref="ILanguageModel"/>: embeddings, special tokens, tokenizer folder.</summary>
public class GptNeoXLanguageModelTests
{
    [Fact]
    public void EmbeddingsAreTheCheckpointMatrices()
    {
        using var scope = NewDisposeScope();
        var folder = Fixtures.Path("gpt_neox", "modelB");
        ILanguageModel model = GptNeoXLoader.Load(folder);
        using var _ = model;
        var weights = Fixtures.ReadAll(Path.Combine(folder, "model.safetensors"));
        var input = model.InputEmbeddings();
        var output = model.OutputEmbeddings();
        Assert.Equal(new long[] { 97, 48 }, input.shape);
        Assert.Equal(new long[] { 97, 48 }, output.shape);
        Assert.False(input.requires_grad);
        Assert.True(input.eq(weights["gpt_neox.embed_in.weight"].to(ScalarType.Float32)).all().item<bool>());
        Assert.True(output.eq(weights["embed_out.weight"].to(ScalarType.Float32)).all().item<bool>());
    }

    [Fact]
    public void InMemoryModelTakesSpecialTokensFromItsConfigAndHasNoTokenizerFolder()
    {
        using var model = GptNeoXInit.Create(new GptNeoXConfig
        {
            HiddenSize = 16, NumAttentionHeads = 2, NumHiddenLayers = 1, IntermediateSize = 32, VocabSize = 40,
            BosTokenId = 1, EosTokenId = 2, PadTokenId = 1,
        }, seed: 0);
        Assert.Null(model.TokenizerFolder);
        Assert.Equal(new long[] { 1, 2 }, model.SpecialTokens.Ids);
    }

    [Fact]
    public void LoadedModelTakesSpecialTokensFromItsTokenizerFiles()
    {
        var folder = Path.Combine(Fixtures.RepoRoot, "embedded", "model");
        using var model = GptNeoXLoader.Load(folder);
        Assert.Equal(folder, model.TokenizerFolder);
        // <|endoftext|> (bos = eos) and <|padding|> (pad) per special_tokens_map.json; config.json names only 0.
        Assert.Equal(new long[] { 0, 1 }, model.SpecialTokens.Ids);
    }
}

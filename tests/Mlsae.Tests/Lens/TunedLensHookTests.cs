using Mlsae.Lens;
using Mlsae.Models;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Lens;

/// <summary>Which translator each layer gets and where special tokens are zeroed, default and under
/// the reference's quirks, on a 3-layer model with translators that each add a known constant.</summary>
public class TunedLensHookTests
{
    // Translator i adds 10·(i + 1) to every coordinate (W = 0), so the output names the translator.
    static TunedLens Adding(int layers, int d)
    {
        var b = new float[layers, d];
        for (int i = 0; i < layers; i++) for (int j = 0; j < d; j++) b[i, j] = 10 * (i + 1);
        return TunedLens.Load(LensFolder.Write(new float[layers, d, d], b), CPU);
    }

    [Fact]
    public void DefaultGivesBlockLTranslatorLPlus1AndTheLastBlockTheIdentity()
    {
        using var scope = NewDisposeScope();
        using var hook = new TunedLensHook(Adding(3, 2), [2, 0], 3, 2, "m", referenceQuirks: false);
        Assert.Equal(1, hook.Translator(0));
        Assert.Null(hook.Translator(2));
        var h = zeros(1, 2);
        Assert.Equal(new float[] { 20, 20 }, hook.In(h, 0).data<float>().ToArray());
        Assert.Equal(new float[] { 0, 0 }, hook.In(h, 2).data<float>().ToArray());
        Assert.Equal(new float[] { 0, 0 }, hook.Out(tensor(new float[] { 20, 20 }).reshape(1, 2), 0).data<float>().ToArray());
        Assert.False(hook.ZeroSpecialFirst);
    }

    [Fact]
    public void QuirksGiveTheIthChosenLayerTranslatorI()
    {
        using var scope = NewDisposeScope();
        using var hook = new TunedLensHook(Adding(3, 2), [2, 0], 3, 2, "m", referenceQuirks: true);
        Assert.Equal(0, hook.Translator(2));
        Assert.Equal(1, hook.Translator(0));
        Assert.Equal(new float[] { 10, 10 }, hook.In(zeros(1, 2), 2).data<float>().ToArray());
        Assert.Equal(new float[] { 20, 20 }, hook.In(zeros(1, 2), 0).data<float>().ToArray());
        Assert.True(hook.ZeroSpecialFirst);
    }

    [Fact]
    public void SpecialTokensAreZeroAfterTheLensByDefaultAndTheBiasUnderQuirks()
    {
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Load(TinyRun.Model, CPU, ScalarType.Float32);
        var special = model.SpecialTokens;
        Assert.NotEmpty(special.Ids);
        long id = special.Ids[0];
        var tokens = tensor(new long[] { id, 5, 6, 7, 8, id, 9, 10 }, [2, 4]);
        var mask = tokens.eq(id).unsqueeze(-1);                                                    // [B, T, 1]
        var plain = new ResidualStream(model, [0, 1], special).Forward(tokens);
        using var lens = Adding(2, 32);
        var byDefault = new ResidualStream(model, [0, 1], special, new TunedLensHook(lens, [0, 1], 2, 32, "tiny", false)).Forward(tokens);
        var quirks = new ResidualStream(model, [0, 1], special, new TunedLensHook(lens, [0, 1], 2, 32, "tiny", true)).Forward(tokens);
        // Default: layer 0 gets translator 1 (+20), layer 1 the identity; special rows stay zero.
        Assert.True(byDefault[0].eq((plain[0] + 20).masked_fill(mask, 0)).all().item<bool>());
        Assert.True(byDefault[1].eq(plain[1]).all().item<bool>());
        // Quirks: zeroed first, so the special rows become b_i (10 at layer 0, 20 at layer 1).
        Assert.True(quirks[0].eq(plain[0] + 10).all().item<bool>());
        Assert.True(quirks[1].eq(plain[1] + 20).all().item<bool>());
        Assert.Equal(10f, quirks[0][0, 0].min().item<float>());
        Assert.Equal(20f, quirks[1][1, 1].max().item<float>());
    }

    [Fact]
    public void AHookForAModelOfOtherShapeIsRefused()
    {
        using var scope = NewDisposeScope();
        using var lens = Adding(3, 2);
        var e = Assert.Throws<MlsaeException>(() => new TunedLensHook(lens, [0], 2, 2, "tiny", false));
        Assert.Contains("num_hidden_layers 3 and d_model 2", e.Message);
        Assert.Contains("tiny has num_hidden_layers 2 and hidden_size 2", e.Message);
    }
}

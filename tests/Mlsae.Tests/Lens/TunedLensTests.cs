using Mlsae.Lens;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Lens;

/// <summary>The lens format (config.json, params.pt through the restricted unpickler, params.safetensors)
/// and the translators' math, against hand-computed values.</summary>
public class TunedLensTests
{
    // W_0 = [[1, 2], [0, 1]], b_0 = [1, 1]; translator 1 is zero.
    static string TwoByTwo(bool safetensors = false) => LensFolder.Write(
        new float[,,] { { { 1, 2 }, { 0, 1 } }, { { 0, 0 }, { 0, 0 } } }, new float[,] { { 1, 1 }, { 0, 0 } }, safetensors);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsParamsAndTranslatesAsHPlusHWtPlusB(bool safetensors)
    {
        using var scope = NewDisposeScope();
        using var lens = TunedLens.Load(TwoByTwo(safetensors), CPU);
        Assert.Equal(2, lens.Translators);
        Assert.Equal("fixture/model", lens.Config.BaseModelNameOrPath);
        Assert.Equal(64, lens.Reference.Sha256.Length);
        // h = [-1, 2]: h·W_0ᵀ = [-1 + 4, 2] = [3, 2]; + h + b = [3, 5].
        var y = lens.Translate(tensor(new float[] { -1, 2 }).reshape(1, 2), 0);
        Assert.Equal(new float[] { 3, 5 }, y.data<float>().ToArray());
        Assert.Equal(new float[] { -1, 2 }, lens.Translate(tensor(new float[] { -1, 2 }).reshape(1, 2), 1).data<float>().ToArray());
    }

    [Fact]
    public void ExactInverseSolvesAndTheReferenceInverseKeepsOnlyTheDiagonal()
    {
        using var scope = NewDisposeScope();
        using var lens = TunedLens.Load(TwoByTwo(), CPU);
        var y = tensor(new float[] { 3, 5 }).reshape(1, 1, 2);
        // (y − b)·(I + W)⁻ᵀ: h·[[2, 0], [2, 2]] = [2, 4] gives h = [-1, 2].
        Assert.Equal(new float[] { -1, 2 }, lens.Invert(y, 0).data<float>().ToArray());
        // (I + W)⁻¹ = [[0.5, -0.5], [0, 0.5]]: the diagonal [0.5, 0.5] times y − b = [2, 4].
        Assert.Equal(new float[] { 1, 2 }, lens.InvertDiagonal(y, 0).data<float>().ToArray());
        Assert.Equal(new long[] { 1, 1, 2 }, lens.Invert(y, 0).shape);
    }

    [Fact]
    public void InverseOfTheLensIsTheIdentityWithin1e5()
    {
        using var scope = NewDisposeScope();
        using var lens = TunedLens.Load(LensFolder.Random(3, 16, seed: 4), CPU);
        var h = randn(new long[] { 2, 5, 16 }, generator: new TorchSharp.torch.Generator(7)) * 3;
        for (int i = 0; i < 3; i++)
        {
            var back = lens.Invert(lens.Translate(h, i), i);
            Assert.True((back - h).abs().max().item<float>() < 1e-5, $"translator {i}: {(back - h).abs().max().item<float>()}");
            Assert.True((lens.Translate(h, i) - h).abs().max().item<float>() > 0.1);   // the translator does something
        }
    }

    [Fact]
    public void NoBiasConfigReadsWeightsOnly()
    {
        using var scope = NewDisposeScope();
        using var lens = TunedLens.Load(LensFolder.Write(new float[,,] { { { 0, 1 }, { 0, 0 } } }, null), CPU);
        Assert.False(lens.Config.Bias);
        Assert.Equal(new float[] { 3, 2 }, lens.Translate(tensor(new float[] { 1, 2 }).reshape(1, 2), 0).data<float>().ToArray());
    }

    [Fact]
    public void UnknownConfigKeysAreIgnored()
    {
        using var scope = NewDisposeScope();
        using var lens = TunedLens.Load(LensFolder.Write(new float[1, 2, 2], new float[1, 2], extraConfig: new() { ["future_key"] = 3 }), CPU);
        Assert.Equal(2, lens.Config.DModel);
    }

    [Fact]
    public void BadLensFilesAreErrorsNamingTheFile()
    {
        var folder = LensFolder.Write(new float[1, 2, 2], new float[1, 2], extraConfig: new() { ["lens_type"] = "logit_lens" });
        var e = Assert.Throws<MlsaeException>(() => TunedLens.Load(folder, CPU));
        Assert.Equal($"{Path.Combine(folder, "config.json")}: 'lens_type' is 'logit_lens'; only 'linear_tuned_lens' lenses can be applied", e.Message);

        folder = LensFolder.Write(new float[1, 2, 2], new float[1, 2], extraConfig: new() { ["num_hidden_layers"] = 2 });
        e = Assert.Throws<MlsaeException>(() => TunedLens.Load(folder, CPU));
        Assert.StartsWith($"{Path.Combine(folder, "params.pt")}: missing tensor '1.weight'", e.Message);

        folder = LensFolder.Write(new float[1, 2, 2], new float[1, 2], extraConfig: new() { ["d_model"] = 3 });
        e = Assert.Throws<MlsaeException>(() => TunedLens.Load(folder, CPU));
        Assert.Equal($"{Path.Combine(folder, "params.pt")}: tensor '0.weight': expected shape [3, 3], got [2, 2]", e.Message);

        folder = LensFolder.Write(new float[1, 2, 2], new float[1, 2]);
        File.Delete(Path.Combine(folder, "params.pt"));
        e = Assert.Throws<MlsaeException>(() => TunedLens.Load(folder, CPU));
        Assert.Contains("no params.pt or params.safetensors", e.Message);
    }

    [Fact]
    public void ALensForAnotherModelShapeIsAnErrorNamingBoth()
    {
        using var scope = NewDisposeScope();
        var folder = LensFolder.Zero(3, 8);
        using var lens = TunedLens.Load(folder, CPU);
        var e = Assert.Throws<MlsaeException>(() => lens.CheckFits(2, 32, "tiny"));
        Assert.Equal($"--tuned-lens: {folder} was tuned for a model of num_hidden_layers 3 and d_model 8 (fixture/model), but tiny has num_hidden_layers 2 and hidden_size 32", e.Message);
    }
}

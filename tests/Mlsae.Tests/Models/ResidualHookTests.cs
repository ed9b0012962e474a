using Mlsae.Metrics;
using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Models;

/// <summary>The per-layer hook: <see cref="IResidualHook.In"/> in the residual stream (before the
/// special-token zeroing), <see cref="IResidualHook.Out"/> on the reconstruction in the downstream metrics, each with the
/// model layer of its row; the identity hook changes nothing, bit for bit.</summary>
public class ResidualHookTests
{
    static readonly int[] Layers = [4, 1];

    /// <summary>h ↦ (l+1)·h + l + 1 at model layer l, and its inverse; records the layers it is called with.</summary>
    sealed class AffineHook : IResidualHook
    {
        public List<int> InLayers { get; } = [];
        public List<int> OutLayers { get; } = [];
        public Tensor In(Tensor hidden, int layer) { InLayers.Add(layer); return hidden * (layer + 1) + (layer + 1); }
        public Tensor Out(Tensor translated, int layer) { OutLayers.Add(layer); return (translated - (layer + 1)) / (layer + 1); }
    }

    sealed class IdentityHook : IResidualHook
    {
        public Tensor In(Tensor hidden, int layer) => hidden.alias();
        public Tensor Out(Tensor translated, int layer) => translated.alias();
    }

    // The shipped model: trained, so running on from a layer reacts to what it is given.
    static ILanguageModel Model(ScalarType dtype = ScalarType.Float32) =>
        ModelRegistry.Load(Path.Combine(Fixtures.RepoRoot, "embedded", "model"), CPU, dtype);

    // Ids 0 (<|endoftext|>) and 1 (<|padding|>) are special: four positions.
    static Tensor Tokens() => tensor(new long[] { 0, 70, 120, 300, 90, 1, 210, 40, 150, 80, 330, 0, 600, 11, 300, 110 }, [2, 8]);

    [Fact]
    public void InMapsEachRowWithItsModelLayerAndZeroedPositionsStayZero()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var tokens = Tokens();
        var raw = new ResidualStream(model, Layers, null).Forward(tokens);                       // [L, B, T, D]
        var hook = new AffineHook();
        var hooked = new ResidualStream(model, Layers, model.SpecialTokens, hook).Forward(tokens);
        Assert.Equal(Layers, hook.InLayers);
        var special = tokens.le(1).unsqueeze(0).unsqueeze(-1);                                   // [1, B, T, 1]
        for (int i = 0; i < Layers.Length; i++)
        {
            var expected = (raw[i] * (Layers[i] + 1) + (Layers[i] + 1)).masked_fill(special[0], 0.0);
            Assert.True(hooked[i].eq(expected).all().item<bool>(), $"row {i} (layer {Layers[i]})");
        }
        Assert.Equal(0f, hooked.masked_select(special.expand_as(hooked)).abs().max().item<float>());
    }

    [Fact]
    public void OutMapsBackWithTheLayerOfEachRowBeforeTheForwardFromThatLayer()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var tokens = Tokens();
        var hook = new AffineHook();
        var plain = new ResidualStream(model, Layers, null).Forward(tokens);
        var translated = new ResidualStream(model, Layers, null, hook).Forward(tokens);
        var expected = DownstreamMetrics.Compute(model, Layers, plain, plain, tokens);
        // A perfect reconstruction in the hook's space: mapped back, it is the model's own stream. The
        // true run is the model's own stream, never mapped.
        var actual = DownstreamMetrics.Compute(model, Layers, plain, translated.clone(), tokens, hook);
        Assert.Equal(new[] { 4, 1 }, hook.OutLayers);
        for (int i = 0; i < Layers.Length; i++)
        {
            Assert.Equal(expected.LossTrue[i], actual.LossTrue[i]);
            Assert.Equal(expected.LossPred[i], actual.LossPred[i], 1e-5);
            Assert.Equal(0, actual.DeltaLoss[i], 1e-5);
        }
        // Without Out the model would run on from layer 1 on the translated stream, and the loss moves.
        var unmapped = DownstreamMetrics.Compute(model, Layers, plain, translated, tokens);
        Assert.True(Math.Abs(unmapped.LossPred[1] - expected.LossTrue[1]) > 0.1, $"{unmapped.LossPred[1]} vs {expected.LossTrue[1]}");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void IdentityHookIsBitIdenticalToNoHook(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var model = Model(dtype);
        var tokens = Tokens();
        var plain = new ResidualStream(model, Layers, model.SpecialTokens).Forward(tokens);
        var identity = new ResidualStream(model, Layers, model.SpecialTokens, new IdentityHook()).Forward(tokens);
        Assert.Equal(ScalarType.Float32, identity.dtype);
        Assert.True(plain.eq(identity).all().item<bool>());

        var recons = plain * 0.9f;
        var without = DownstreamMetrics.Compute(model, Layers, plain, recons, tokens);
        var hooked = DownstreamMetrics.Compute(model, Layers, identity, recons, tokens, new IdentityHook());
        Assert.Equal(without.LossTrue, hooked.LossTrue);
        Assert.Equal(without.LossPred, hooked.LossPred);
        Assert.Equal(without.LogitMse, hooked.LogitMse);
        Assert.Equal(without.KlDiv, hooked.KlDiv);
    }

    [Fact]
    public void HookThatChangesTheShapeIsAnErrorNamingTheLayer()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var stream = new ResidualStream(model, Layers, null, new TruncatingHook());
        var e = Assert.Throws<MlsaeException>(() => stream.Forward(Tokens()));
        Assert.Equal("residual hook In(layer 4): expected shape [2, 8, 128], got [2, 8, 8]", e.Message);
    }

    sealed class TruncatingHook : IResidualHook
    {
        public Tensor In(Tensor hidden, int layer) => hidden[.., .., ..8];
        public Tensor Out(Tensor translated, int layer) => translated.alias();
    }
}

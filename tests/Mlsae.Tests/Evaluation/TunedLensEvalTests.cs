using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Evaluation;
using Mlsae.Lens;
using Mlsae.Metrics;
using Mlsae.Models;
using Mlsae.Tests.Lens;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Evaluation;

/// <summary>Evaluation through a tuned lens: reconstruction metrics in lens space, downstream metrics
/// on the exactly inverted reconstruction against the model's own stream.</summary>
public class TunedLensEvalTests
{
    static readonly int[] Layers = [0, 1];

    static long[][] Batch(int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, 2).Select(_ => Enumerable.Range(0, 16).Select(_ => (long)rng.Next(0, 128)).ToArray()).ToArray();
    }

    static MlsaeAutoencoder Sae() => MlsaeAutoencoder.Create(new MlsaeConfig { NInputs = 32, NLatents = 128, K = 4, AuxK = null, DeadStepsThreshold = 10 },
        new SparseCoderSettings(), seed: 3);

    [Fact]
    public void AnAllZeroLensGivesExactlyTheNoLensNumbers()
    {
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Load(TinyRun.Model, CPU, ScalarType.Float32);
        using var sae = Sae();
        var batches = new[] { Batch(1), Batch(2) };
        var plain = MlsaeEvaluator.Run(new ResidualStream(model, Layers, model.SpecialTokens), sae, batches, downstream: true, 1e7);
        using var hook = new TunedLensHook(TunedLens.Load(LensFolder.Zero(2, 32), CPU), Layers, 2, 32, "tiny", referenceQuirks: false);
        var lensed = MlsaeEvaluator.Run(new ResidualStream(model, Layers, model.SpecialTokens, hook), sae, batches, downstream: true, 1e7);
        Assert.Equal(plain.PerLayer.Keys.Order(), lensed.PerLayer.Keys.Order());
        foreach (var (metric, values) in plain.PerLayer) Assert.Equal(values, lensed.PerLayer[metric]);
        Assert.Equal(plain.DeadFraction, lensed.DeadFraction);
        Assert.Null(plain.TunedLens);
        Assert.Equal(hook.Lens.Reference, lensed.TunedLens);
        Assert.Equal("residual_stream", plain.ToJson()["reconstruction_space"]!.GetValue<string>());
        Assert.Equal("tuned_lens", lensed.ToJson()["reconstruction_space"]!.GetValue<string>());
    }

    [Fact]
    public void ALensGivesLensSpaceFvuAndDownstreamThroughTheExactInverse()
    {
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Load(TinyRun.Model, CPU, ScalarType.Float32);
        using var sae = Sae();
        var batch = Batch(5);
        var folder = LensFolder.Random(2, 32, seed: 9);
        using var hook = new TunedLensHook(TunedLens.Load(folder, CPU), Layers, 2, 32, "tiny", referenceQuirks: false);
        var result = MlsaeEvaluator.Run(new ResidualStream(model, Layers, null, hook), sae, [batch], downstream: true, 1e7);
        var plain = MlsaeEvaluator.Run(new ResidualStream(model, Layers, null), sae, [batch], downstream: true, 1e7);

        // Independently: layer 0 gets translator 1 (h + h·W₁ᵀ + b₁), layer 1 (the last block) the identity.
        var tokens = tensor(batch.SelectMany(s => s).ToArray(), [2, 16]);
        var hidden = model.Forward(tokens, Layers).HiddenStates;                                       // [L, B, T, D]
        var w1 = ReadParam(folder, "1.weight");
        var b1 = ReadParam(folder, "1.bias");
        var inputs = stack([hidden[0] + hidden[0].matmul(w1.t()) + b1, hidden[1]]);
        using var output = sae.Forward(inputs, training: false);
        var fvu = Fvu.PerLayer(inputs, output.Recons).data<float>().ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(fvu[i], result.PerLayer["fvu"][i], 1e-5);

        // The true run is the model's own stream: the same as without a lens, exactly.
        Assert.Equal(plain.PerLayer["ce_loss"], result.PerLayer["ce_loss"]);
        // The reconstruction goes back through (I + W₁)⁻¹ (an explicit inverse here, a solve in the code).
        var inverse = linalg.inv(eye(32, dtype: ScalarType.Float64) + w1.to(ScalarType.Float64));
        var back0 = ((output.Recons[0].to(ScalarType.Float64) - b1.to(ScalarType.Float64)).matmul(inverse.t())).to(ScalarType.Float32);
        var loss0 = ILanguageModel.NextTokenLoss(model.ForwardAtLayer(back0, 0), tokens).item<float>();
        var loss1 = ILanguageModel.NextTokenLoss(model.ForwardAtLayer(output.Recons[1], 1), tokens).item<float>();
        Assert.Equal(loss0, result.PerLayer["ce_loss_recons"][0], 1e-4);
        Assert.Equal(loss1, result.PerLayer["ce_loss_recons"][1], 1e-5);
        // And the lens changed what the SAE saw at layer 0.
        Assert.NotEqual(plain.PerLayer["fvu"][0], result.PerLayer["fvu"][0]);
    }

    static Tensor ReadParam(string folder, string name)
    {
        using var file = Mlsae.IO.TorchCheckpoint.Open(Path.Combine(folder, "params.pt"));
        return file.Read(name);
    }
}

using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Metrics;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

/// <summary>The consistent semantics (the default) next to the reference's, and the two kernels against each other.</summary>
public class MlsaeConsistentTests
{
    static MlsaeAutoencoder Reference(SparseCoderSettings settings) => MlsaeCheckpoint.Load(Fixtures.Path("mlsae", "sae_checkpoint"), settings).Autoencoder;

    [Fact]
    public void ConsistentAuxKModelsTheStandardizedErrorWithoutTheBias()
    {
        using var scope = NewDisposeScope();
        var g = Fixtures.ReadAll(Fixtures.Path("mlsae", "mlsae_golden.safetensors"));
        // The fixture's call-2 dead mask by tokens: 38 tokens per call, counters as after call 2 (a
        // step's calls use the mask the step began with).
        using var sae = Reference(new SparseCoderSettings { DeadTokensThreshold = 76 });
        sae.DeadLatents.Load(g["state.last_nonzero_after_call2"], g["state.last_nonzero_after_call2"] * 38);
        var x = g["inputs"];
        var output = sae.Forward(x, training: true);
        // By hand from the fixture: standardized recons = (recons − mean) / std… but the reference
        // de-standardizes with std (no eps) while standardizing with std + eps, so undo exactly that.
        var mean = g["stats.mean"];
        var std = g["stats.std"];
        var standardizedRecons = (g["recons"] - mean) / std;
        var error = g["standardized_inputs"] - standardizedRecons;
        var auxkRecons = g["auxk_recons"] - g["params.pre_encoder_bias"];
        Fixtures.AssertClose(error, output.AuxKError!, 1e-4, 0, "standardized error");
        Fixtures.AssertClose(auxkRecons, output.AuxKRecons!, 1e-5, 0, "auxk recons without bias");
        var expected = ((error - auxkRecons).pow(2).mean() / (error - error.mean([-1], keepdim: true)).pow(2).mean()) / 32;
        var actual = AuxKLoss.Compute(output, 1.0 / 32);
        Fixtures.AssertClose(expected, actual, 0, 1e-4, "consistent auxk loss");
        Assert.True(Math.Abs(actual.item<float>() - g["loss.auxk"].item<float>()) > 1e-4, "the consistent loss differs from the reference's");
    }

    [Fact]
    public void DeadLatentsCountTokensByDefaultAndCallsWithReferenceQuirks()
    {
        using var scope = NewDisposeScope();
        var g = Fixtures.ReadAll(Fixtures.Path("mlsae", "mlsae_golden.safetensors"));
        var x = g["inputs"];                                         // [2, 2, 19, 48]: 38 tokens per call
        using var byTokens = Reference(new SparseCoderSettings { DeadTokensThreshold = 76 });
        using (no_grad())
        {
            byTokens.Forward(x, training: true).Dispose();
            Assert.Equal(0, byTokens.DeadLatents.LastNonzero.sum().item<long>());   // recorded, applied when the step ends
            byTokens.DeadLatents.ApplyStep();
            Assert.Equal(g["state.last_nonzero_after_call1"].data<long>().ToArray(), byTokens.DeadLatents.LastNonzero.data<long>().ToArray());
            Assert.Equal(0, byTokens.DeadLatents.Mask().sum().item<long>());   // 38 tokens < 76
            byTokens.Forward(x, training: true).Dispose();
            byTokens.DeadLatents.ApplyStep();
            Assert.Equal(g["call2.dead_mask"].data<bool>().ToArray(), byTokens.DeadLatents.Mask().data<bool>().ToArray());  // 76 tokens
            Assert.Equal(g["state.last_nonzero_after_call2"].data<long>().ToArray(), byTokens.DeadLatents.LastNonzero.data<long>().ToArray());
            // Evaluation does not advance the counters.
            byTokens.Forward(x, training: false).Dispose();
            Assert.Equal(g["state.last_nonzero_after_call2"].data<long>().ToArray(), byTokens.DeadLatents.LastNonzero.data<long>().ToArray());
        }
        Assert.Equal(new DeadLatentRule(true, 76), byTokens.DeadLatents.Rule);
        using var byCalls = Reference(new SparseCoderSettings { ReferenceQuirks = true, DeadTokensThreshold = 76 });
        Assert.Equal(new DeadLatentRule(false, 2), byCalls.DeadLatents.Rule);   // the checkpoint's dead_steps_threshold
    }

    [Fact]
    public void BiasStartsAtTheGeometricMedianOfStandardizedOrRawInputs()
    {
        using var scope = NewDisposeScope();
        var g = Fixtures.ReadAll(Fixtures.Path("mlsae", "mlsae_golden.safetensors"));
        using var quirks = Reference(new SparseCoderSettings { ReferenceQuirks = true, DeadTokensThreshold = 10 });
        quirks.InitializeFromFirstBatch(g["inputs"]);
        Fixtures.AssertClose(g["geometric_median"], quirks.PreEncoderBias, 1e-5, 0, "raw median (reference)");
        using var sae = Reference(new SparseCoderSettings { DeadTokensThreshold = 10 });
        sae.InitializeFromFirstBatch(g["inputs"]);
        Fixtures.AssertClose(MlsaeAutoencoder.GeometricMedian(g["standardized_inputs"]), sae.PreEncoderBias, 1e-5, 0, "standardized median");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SparseKernelsGiveTheDenseGradientsOnRandomData(bool quirks)
    {
        using var scope = NewDisposeScope();
        var config = new MlsaeConfig { NInputs = 24, NLatents = 96, K = 5, AuxK = 20, DeadStepsThreshold = 1 };
        var x = randn([3, 2, 7, 24], generator: new Generator(11));
        var grads = new List<Tensor[]>();
        foreach (var kernels in new[] { MlsaeKernels.Sparse, MlsaeKernels.Dense })
        {
            // Calls (quirks: the config's dead_steps_threshold 1, counting this call itself) or tokens
            // (14 = B · T per call): under either rule every latent is dead in this call.
            using var sae = MlsaeAutoencoder.Create(config, new SparseCoderSettings { ReferenceQuirks = quirks, DeadTokensThreshold = 14, Kernels = kernels }, seed: 4);
            sae.InitializeFromFirstBatch(x);
            // The consistent order uses the mask the step began with: start as after one such call.
            if (!quirks) sae.DeadLatents.Load(null, full(96, 14L, ScalarType.Int64));
            var output = sae.Forward(x, training: true);
            (Fvu.Loss(x, output.Recons) + AuxKLoss.Compute(output, 1.0 / 32)).backward();
            grads.Add(sae.Parameters.Select(p => p.grad!.clone()).ToArray());
        }
        for (int i = 0; i < 3; i++) Fixtures.AssertClose(grads[1][i], grads[0][i], 1e-6, 1e-5, $"parameter {i}");
        Assert.True(grads[0][0].abs().sum().item<float>() > 0);
    }
}

public class MlsaeComputeDTypeTests
{
    [Fact]
    public void Bfloat16EncoderComputeStaysCloseToFloat32()
    {
        using var scope = NewDisposeScope();
        var config = new MlsaeConfig { NInputs = 32, NLatents = 256, K = 8, AuxK = 16, DeadStepsThreshold = 10 };
        var x = randn([2, 4, 16, 32], generator: new Generator(2));
        double Fvu(ScalarType dtype)
        {
            using var sae = MlsaeAutoencoder.Create(config, new SparseCoderSettings { DeadTokensThreshold = 1000, ComputeDType = dtype }, seed: 1);
            sae.InitializeFromFirstBatch(x);
            var output = sae.Forward(x, training: true);
            var loss = Mlsae.Metrics.Fvu.Loss(x, output.Recons);
            loss.backward();
            Assert.Equal(ScalarType.Float32, output.Recons.dtype);
            Assert.True(sae.Encoder.grad!.isfinite().all().item<bool>());
            return loss.item<float>();
        }
        double full = Fvu(ScalarType.Float32), half = Fvu(ScalarType.BFloat16);
        Assert.True(Math.Abs(full - half) < 0.02, $"float32 FVU {full:F4}, bfloat16-compute FVU {half:F4}");
    }
}

using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Metrics;
using Mlsae.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Coders;

/// <summary>The settings record is the only source of the quirks flag: a coder built with it on
/// makes the reference's AuxK target and dead rule, off the consistent ones.</summary>
public class SparseCoderSettingsTests
{
    static readonly string Golden = Fixtures.Path("mlsae", "mlsae_golden.safetensors");

    static ISparseCoder Load(SparseCoderSettings settings) =>
        SparseCoderRegistry.Load(Fixtures.Path("mlsae", "sae_checkpoint"), settings).Coder;

    [Fact]
    public void QuirksOnGiveTheReferenceAuxKAndDeadRule()
    {
        using var scope = NewDisposeScope();
        var g = Fixtures.ReadAll(Golden);
        var x = g["inputs"];
        using var coder = Load(new SparseCoderSettings { ReferenceQuirks = true });
        Assert.Equal(new DeadLatentRule(false, 2), ((MlsaeAutoencoder)coder).DeadLatents.Rule);   // calls, the config's dead_steps_threshold
        using (no_grad()) coder.Forward(x, training: true).Dispose();
        Assert.Equal(0, coder.DeadMask().sum().item<long>());
        using var output = coder.Forward(x, training: true);
        Assert.Equal(g["call2.dead_mask"].data<bool>().ToArray(), coder.DeadMask().data<bool>().ToArray());
        Fixtures.AssertClose(x - output.Recons, output.AuxKError!, 0, 0, "raw-space error");
        Fixtures.AssertClose(g["auxk_recons"], output.AuxKRecons!, 1e-5, 0, "auxk_recons with the bias");
        using var loss = coder.Loss(x, output);
        Fixtures.AssertClose(g["loss.auxk"], loss.AuxK, 0, 1e-5, "reference auxk");
        Fixtures.AssertClose(g["loss.total"], loss.Total, 0, 1e-5, "reference total");
    }

    [Fact]
    public void QuirksOffGiveTheConsistentAuxKAndDeadRule()
    {
        using var scope = NewDisposeScope();
        var g = Fixtures.ReadAll(Golden);
        var x = g["inputs"];                                                 // 38 tokens per call
        using var coder = Load(new SparseCoderSettings { DeadTokensThreshold = 76 });
        var dead = ((MlsaeAutoencoder)coder).DeadLatents;
        Assert.Equal(new DeadLatentRule(true, 76), dead.Rule);
        // The consistent order: a step's calls use the mask the step began with. Begin where the
        // reference's second call ends, 38 tokens a call, so that mask is the fixture's call-2 mask.
        dead.Load(g["state.last_nonzero_after_call2"], g["state.last_nonzero_after_call2"] * 38);
        using var output = coder.Forward(x, training: true);
        Assert.Equal(g["call2.dead_mask"].data<bool>().ToArray(), coder.DeadMask().data<bool>().ToArray());
        Assert.Equal(g["state.last_nonzero_after_call2"].data<long>().ToArray(), dead.LastNonzero.data<long>().ToArray());   // untouched until the step ends
        var standardizedRecons = (g["recons"] - g["stats.mean"]) / g["stats.std"];   // the fixture de-standardizes without eps
        Fixtures.AssertClose(g["standardized_inputs"] - standardizedRecons, output.AuxKError!, 1e-4, 0, "standardized error");
        Fixtures.AssertClose(g["auxk_recons"] - g["params.pre_encoder_bias"], output.AuxKRecons!, 1e-5, 0, "auxk_recons without the bias");
        using var loss = coder.Loss(x, output);
        Assert.True(Math.Abs(loss.AuxK.item<float>() - g["loss.auxk"].item<float>()) > 1e-4, "the consistent AuxK differs from the reference's");
    }

    [Fact]
    public void RunOptionsMapToSettingsAndTheReferenceDerivation()
    {
        var options = new TrainOptions
        {
            Model = new ModelOptions { Name = "m" }, Data = new TrainDataOptions { Source = "d" },
            Autoencoder = new AutoencoderOptions { ReferenceQuirks = true, AuxKCoef = 0.5, DType = "bfloat16" },
        };
        var settings = CoderSettings.Of(options);
        Assert.Equal(new SparseCoderSettings { ReferenceQuirks = true, DeadTokensThreshold = 10_000_000, AuxKCoef = 0.5, ComputeDType = ScalarType.BFloat16 }, settings);
        var config = new MlsaeConfig { NInputs = 8, NLatents = 32, K = 2, AuxK = 4, DeadStepsThreshold = options.DeadStepsThreshold };
        using (var quirks = MlsaeAutoencoder.Create(config, settings, seed: 0))
            Assert.Equal(new DeadLatentRule(false, 76), quirks.DeadLatents.Rule);   // 10M // (1 · 2048 · 64) forward calls
        using var consistent = MlsaeAutoencoder.Create(config, CoderSettings.Of(options with { Autoencoder = options.Autoencoder with { ReferenceQuirks = false } }), seed: 0);
        Assert.Equal(new DeadLatentRule(true, 10_000_000), consistent.DeadLatents.Rule);
    }

    [Theory]
    [InlineData(-1.0, 10L, "--auxk-coef must be a non-negative number")]
    [InlineData(double.NaN, 10L, "--auxk-coef must be a non-negative number")]
    [InlineData(0.1, 0L, "--dead-tokens-threshold must be positive")]
    public void BadSettingsAreErrorsNamingTheFlag(double coef, long threshold, string message)
    {
        var config = new MlsaeConfig { NInputs = 8, NLatents = 32, K = 2, AuxK = 4, DeadStepsThreshold = 1 };
        var e = Assert.Throws<MlsaeException>(() => MlsaeAutoencoder.Create(config, new SparseCoderSettings { AuxKCoef = coef, DeadTokensThreshold = threshold }, seed: 0));
        Assert.StartsWith(message, e.Message);
    }
}

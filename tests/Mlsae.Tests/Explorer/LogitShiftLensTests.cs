using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Explorer;
using Mlsae.Lens;
using Mlsae.Metrics;
using Mlsae.Models;
using Mlsae.Tests.Lens;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Explorer;

/// <summary>The explorer's reconstruct and steer through a tuned lens: the true run is the model's own
/// stream, the reconstruction goes through the exact inverse (as eval's downstream metrics), and a
/// steering step is the inverse lens's linear part applied to the lens-space step.</summary>
public class LogitShiftLensTests
{
    static readonly long[] Ids = [5, 17, 3, 99, 42, 7, 64, 1, 23, 88, 12, 30];

    static ModelSession Session(string lensFolder) =>
        ModelSession.Open(TinyRun.Model, "main", "0,1", CPU, ScalarType.Float32, true, () => throw new InvalidOperationException("no hub in tests"),
            TunedLensHook.For(TunedLens.Load(lensFolder, CPU), "tiny", referenceQuirks: false));

    static MlsaeAutoencoder Sae() => MlsaeAutoencoder.Create(new MlsaeConfig { NInputs = 32, NLatents = 128, K = 4, AuxK = null, DeadStepsThreshold = 10 },
        new SparseCoderSettings(), seed: 3);

    [Fact]
    public void ReconstructThroughALensGivesTheDownstreamDeltaCeOfEval()
    {
        using var scope = NewDisposeScope();
        using var session = Session(LensFolder.Random(2, 32, seed: 9));
        using var sae = Sae();
        var shift = LogitShift.Reconstruct(session, sae, Ids, layer: 0, top: 4, CancellationToken.None);

        using var _ = no_grad();
        var tokens = session.Stream.Tokens([Ids]);
        var both = session.Stream.ForwardBoth(tokens);
        using var output = sae.Forward(both.Inputs, training: false);
        var metrics = DownstreamMetrics.Compute(session.Model, session.Layers, both.Hidden, output.Recons, tokens, session.Stream.Hook);
        // Same tensors, same ops in float32: equal to rounding of the two loss differences.
        Assert.Equal(metrics.LossPred[0] - metrics.LossTrue[0], shift.DeltaCe!.Value, 1e-5);
    }

    [Fact]
    public void SteeringByZeroThroughALensChangesNothingAndAStepMovesTheLogits()
    {
        using var scope = NewDisposeScope();
        using var session = Session(LensFolder.Random(2, 32, seed: 4));
        using var sae = Sae();
        var none = LogitShift.Steer(session, sae, Ids, layer: 0, latent: 7, factor: 0, top: 4, CancellationToken.None);
        Assert.Equal(0, none.DeltaCe!.Value);
        Assert.All(none.Increases.Concat(none.Decreases).SelectMany(p => p), t => Assert.Equal(0, t.Logit));
        var some = LogitShift.Steer(session, sae, Ids, layer: 0, latent: 7, factor: 8, top: 4, CancellationToken.None);
        Assert.Contains(some.Increases.SelectMany(p => p), t => t.Logit > 1e-3);
    }
}

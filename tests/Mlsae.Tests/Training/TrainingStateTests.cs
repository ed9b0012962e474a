using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.IO;
using Mlsae.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Training;

/// <summary>The training state file keeps the tensor names it had before coders were an interface,
/// so states written then still resume.</summary>
public class TrainingStateTests
{
    [Fact]
    public void TheStateFileKeepsItsNamesAndRoundTrips()
    {
        using var scope = NewDisposeScope();
        var config = new MlsaeConfig { NInputs = 8, NLatents = 32, K = 2, AuxK = 4, DeadStepsThreshold = 1 };
        var x = randn([2, 3, 4, 8], generator: new Generator(1));
        using var sae = MlsaeAutoencoder.Create(config, new SparseCoderSettings { DeadTokensThreshold = 100 }, seed: 2);
        using var adam = new AdamOptimizer(sae.Parameters, 1e-3);
        using (var output = sae.Forward(x, training: true)) using (var loss = sae.Loss(x, output)) loss.Total.backward();
        adam.StepOnce();
        var run = Fixtures.TempDir();
        new TrainingState(1, 1, 3, 12).Save(run, sae, adam, new StepAggregate());
        using (var file = SafeTensorsFile.Open(TrainingState.PathIn(run)))
            Assert.Equal(new[] { "adam.exp_avg.0", "adam.exp_avg.1", "adam.exp_avg.2", "adam.exp_avg_sq.0", "adam.exp_avg_sq.1", "adam.exp_avg_sq.2",
                "decoder", "encoder", "last_nonzero", "pre_encoder_bias", "tokens_since_fired" }, file.Names.Order(StringComparer.Ordinal));

        using var fresh = MlsaeAutoencoder.Create(config, new SparseCoderSettings { DeadTokensThreshold = 100 }, seed: 9);
        using var freshAdam = new AdamOptimizer(fresh.Parameters, 1e-3);
        var state = TrainingState.Load(run, fresh, freshAdam, new StepAggregate());
        Assert.Equal(new TrainingState(1, 1, 3, 12), state);
        for (int i = 0; i < 3; i++)
        {
            Fixtures.AssertClose(sae.Parameters[i], fresh.Parameters[i], 0, 0, sae.NamedParameters[i].Name);
            Fixtures.AssertClose(adam.ExpAvgSq[i], freshAdam.ExpAvgSq[i], 0, 0, $"exp_avg_sq {i}");
        }
        Assert.Equal(sae.DeadLatents.TokensSinceFired.data<long>().ToArray(), fresh.DeadLatents.TokensSinceFired.data<long>().ToArray());
        Assert.Equal(sae.DeadLatents.LastNonzero.data<long>().ToArray(), fresh.DeadLatents.LastNonzero.data<long>().ToArray());
        Assert.Equal(1, freshAdam.Step);
    }
}

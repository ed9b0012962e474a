using Mlsae.Data;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Models;
using Mlsae.Training;
using TorchSharp;
using Xunit;

namespace Mlsae.Tests.Training;

public class TrainerMemoryTests
{
    [Fact]
    public void LiveTensorsStayFlatOver120Steps()
    {
        using var model = GptNeoXLoader.Load(TinyRun.Model);
        var options = new TrainOptions
        {
            Model = new ModelOptions { Name = TinyRun.Model },
            Data = new TrainDataOptions { Source = "unused", MaxLength = 32, BatchSize = 2, ValBatches = 1 },
            Autoencoder = new AutoencoderOptions { ExpansionFactor = 4, K = 4, AuxK = 16 },
            Optimizer = new OptimizerOptions { AccumulateGradBatches = 1, MaxTokens = 120 * 64, Lr = 1e-3 },
            Runtime = new RuntimeOptions { ValEvery = 40, CheckpointEvery = 30 },
        };
        var stream = new ResidualStream(model, [0, 1], null);
        var config = new MlsaeConfig { NInputs = 32, NLatents = 128, K = 4, AuxK = 16, DeadStepsThreshold = 76 };
        using var sae = MlsaeAutoencoder.Create(config, new SparseCoderSettings { DeadTokensThreshold = 1000 }, seed: 0);
        var rng = new Random(3);
        var sequences = Enumerable.Range(0, 400).Select(_ => Enumerable.Range(0, 32).Select(_ => (long)rng.Next(1, 128)).ToArray()).ToList();
        var validation = BatchSource.InMemory(sequences[..2], 2)(null).ToList();
        var live = new Dictionary<long, long>();
        var run = Fixtures.TempDir();
        new MlsaeTrainer(options, stream, sae, run).Fit(BatchSource.InMemory(sequences, 2), null, validation, resume: false,
            p => live[p.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(120, live.Count);
        Assert.True(live[120] <= live[20], $"live tensors grew from {live[20]} at step 20 to {live[120]} at step 120");
    }
}

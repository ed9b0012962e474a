using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Tests.Training;
using Mlsae.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Runs;

/// <summary>The library runs a whole experiment without the CLI and reads every result back typed.</summary>
public class RunTrainerTests
{
    [Fact]
    public void ALibraryUserTrainsAnalysesAndReadsTheResultsBack()
    {
        var folder = Path.Combine(Fixtures.TempDir(), "run");
        var options = new TrainOptions
        {
            Model = new ModelOptions { Name = TinyRun.Model },
            Data = new TrainDataOptions { Source = TinyRun.Data(80), MaxLength = 32, BatchSize = 2, ValBatches = 2 },
            Autoencoder = new AutoencoderOptions { ExpansionFactor = 4, K = 4, AuxK = 16, Seed = 1 },
            Optimizer = new OptimizerOptions { AccumulateGradBatches = 1, MaxTokens = 20 * 64, Lr = 3e-3 },
            Runtime = new RuntimeOptions { ValEvery = 10, CheckpointEvery = 10, LogEvery = 5 },
        }.Validate();
        using var model = ModelSession.Open(options.Model.Name, "main", null, CPU, ScalarType.Float32, skipSpecialTokens: true,
            () => throw new InvalidOperationException("no hub in this test"));
        var run = Run.Create(folder, RunTrainer.Resolve(options, model, RunObserver.Silent));
        var outcome = new RunTrainer(run, model, () => throw new InvalidOperationException(), RunObserver.Silent).Train(resume: false);

        Assert.Equal(20, outcome.State.Step);
        Assert.False(outcome.DataRanOut);
        var reopened = Run.Open(folder);
        Assert.Equal([0, 1], reopened.Options.Model.Layers!);
        var eval = reopened.Eval()!;
        Assert.Equal(outcome.Eval!.ToJson().ToJsonString(), eval.ToJson().ToJsonString());
        Assert.Equal(128, eval.Tokens);
        Assert.Equal(128, reopened.Dists()!.Tokens);
        Assert.Equal(2, reopened.Variances()!.Batches);
        Assert.Null(reopened.Prompt());   // the tiny model ships no tokenizer, so no prompt view
        Assert.True(reopened.HasState);
    }
}

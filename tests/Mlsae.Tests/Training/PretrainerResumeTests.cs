using Mlsae.Data;
using Mlsae.Models;
using Mlsae.Tokenization;
using Mlsae.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Training;

public class PretrainerResumeTests
{
    sealed class Interrupted : Exception;

    [Fact]
    public void AnInterruptedPretrainingResumesFromItsDataPositionToTheStraightRunsWeights()
    {
        var folder = Path.Combine(Fixtures.RepoRoot, "embedded", "model");
        var options = new PretrainOptions
        {
            Tokenizer = folder, Layers = 1, DModel = 32, Heads = 2, MaxLength = 32, BatchSize = 4, MaxTokens = 24 * 4 * 32,
            WarmupSteps = 4, EvalEvery = 1000, EvalBatches = 1, CheckpointEvery = 10,
        };
        var tokenizer = Tokenizer.Load(folder);
        var config = new GptNeoXConfig
        {
            HiddenSize = 32, NumAttentionHeads = 2, NumHiddenLayers = 1, IntermediateSize = 128, VocabSize = 1024, MaxPositionEmbeddings = 64,
            UseParallelResidual = true,
        };
        BatchSource Source(string data) => new(new DataSource(data), new DocumentOptions(), 32, 4, Shard.All, () => tokenizer, () => throw new InvalidOperationException());
        var heldOut = Source(DataSource.EmbeddedHeldOut).Batches().Take(1).ToList();
        float[] Weights(GptNeoX model) => model.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();

        using var straight = GptNeoXInit.Create(config, seed: 1);
        var straightDir = Fixtures.TempDir();
        new Pretrainer(options, straight, straightDir).Fit(Source(DataSource.Embedded).Batches, heldOut, resume: false);

        var dir = Fixtures.TempDir();
        using (var first = GptNeoXInit.Create(config, seed: 1))
            Assert.Throws<Interrupted>(() => new Pretrainer(options, first, dir).Fit(Source(DataSource.Embedded).Batches, heldOut, resume: false,
                p => { if (p.Step == 13) throw new Interrupted(); }));   // after the checkpoint at step 10
        using var resumed = GptNeoXInit.Create(config, seed: 7);   // other weights: all must come from the state
        new Pretrainer(options, resumed, dir).Fit(Source(DataSource.Embedded).Batches, heldOut, resume: true);

        Assert.Equal(Weights(straight), Weights(resumed));
        Assert.Equal(TinyRun.LinesWithoutTime(Path.Combine(straightDir, "pretrain_log.jsonl")), TinyRun.LinesWithoutTime(Path.Combine(dir, "pretrain_log.jsonl")));
    }
}

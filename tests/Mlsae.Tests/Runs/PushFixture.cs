using Mlsae.Analysis;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Runs;
using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Tests.Runs;

/// <summary>A run folder as <c>mlsae push</c> reads it, made without training: run.json, a random
/// MLSAE checkpoint (D 8, F 32, with non-zero <c>last_nonzero</c>), dists and an examples database.</summary>
static class PushFixture
{
    public static readonly MlsaeConfig Config = new() { NInputs = 8, NLatents = 32, K = 4, AuxK = 8, DeadStepsThreshold = 77, DeadThreshold = 1e-3 };

    public static string Create(bool analyses = true)
    {
        var dir = Path.Combine(Fixtures.TempDir(), "run");
        var options = new TrainOptions
        {
            Model = new ModelOptions { Name = "EleutherAI/pythia-70m-deduped", Layers = [0, 2] },
            Data = new TrainDataOptions { Source = "unused.jsonl", MaxLength = 16, BatchSize = 2 },
            Autoencoder = new AutoencoderOptions { ExpansionFactor = 4, K = 4, AuxK = 8, DeadTokensThreshold = 123_456 },
            Optimizer = new OptimizerOptions { Lr = 3e-3, AccumulateGradBatches = 2 },
        };
        Run.Create(dir, options);
        using (var scope = NewDisposeScope())
        using (var autoencoder = MlsaeAutoencoder.Create(Config, new SparseCoderSettings(), seed: 7))
        {
            autoencoder.DeadLatents.Load(arange(32L), null);   // a buffer push must leave out, as upload.py does
            MlsaeCheckpoint.Save(autoencoder, dir);
        }
        if (!analyses) return dir;
        var dists = new LayerDists(2, 32);
        using (var scope = NewDisposeScope())
        {
            using var generator = new Generator(11);
            dists.Add(randn([2, 2, 16, 4], generator: generator), randint(0, 32, [2, 2, 16, 4], generator: generator));
        }
        var meta = new Dictionary<string, string> { ["model"] = options.Model.Name, ["sae"] = dir, ["layers"] = "0,2", ["max_length"] = "16", ["batch_size"] = "2" };
        DistsFiles.Save(dists, meta, Path.Combine(dir, Run.DistsFile));
        var examples = new List<MaxActivatingExamples.Example> { new(3, 0, 0, 5, 1.5f, [1, 2, 3], [0.1f, 1.5f, 0.2f], 1) };
        ExamplesDatabase.Write(Path.Combine(dir, RunPush.ExamplesFile), examples, id => $"t{id}", id => $"T{id}", [0, 2],
            new Dictionary<string, string>(meta) { ["top"] = "32", ["window"] = "1" });
        return dir;
    }
}

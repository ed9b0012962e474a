using Mlsae.Data;
using System.Diagnostics;
using Mlsae.Autoencoder;
using Mlsae.Models;
using Mlsae.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Mlsae.Bench;

/// <summary>
/// The end-to-end training pipeline on a Pythia-70m-shaped model (random weights; d=512, 6
/// layers): transformer forward over all layers, MLSAE step over the 6·T vectors, with the
/// reference's defaults (x16, K 32, AuxK 256) and one batch per optimizer step. Measures tokens/s
/// with the default kernels and with the straight port (dense encoder and decode) in the same process.
/// </summary>
public static class TrainPipelineBench
{
    public sealed record Result(int Threads, int SeqLength, int Batches, double TokensPerSecond, double DenseTokensPerSecond, double Speedup);

    public static Result Run(int seq, int batches)
    {
        var config = new GptNeoXConfig
        {
            HiddenSize = 512, NumAttentionHeads = 8, NumHiddenLayers = 6, IntermediateSize = 2048, VocabSize = 50304,
            MaxPositionEmbeddings = 2048, RotaryPct = 0.25, UseParallelResidual = true,
        };
        using var model = GptNeoXInit.Create(config, seed: 0);
        var rng = new Random(1);
        var sequences = Enumerable.Range(0, batches + 1).Select(_ => Enumerable.Range(0, seq).Select(_ => (long)rng.Next(50277)).ToArray()).ToList();
        double Measure(MlsaeKernels kernels)
        {
            var options = new TrainOptions
            {
                Model = new ModelOptions { Name = "bench" },
                Data = new TrainDataOptions { Source = "bench", MaxLength = seq, BatchSize = 1 },
                Optimizer = new OptimizerOptions { AccumulateGradBatches = 1, MaxTokens = (long)seq * (batches + 1) },
                Runtime = new RuntimeOptions { ValEvery = 0, CheckpointEvery = 1_000_000, LogEvery = 1_000_000 },
            };
            var sae = new MlsaeConfig { NInputs = 512, NLatents = 512 * 16, K = 32, AuxK = 256, DeadStepsThreshold = options.DeadStepsThreshold };
            using var autoencoder = MlsaeAutoencoder.Create(sae, CoderSettings.Of(options) with { Kernels = kernels }, seed: 0);
            var clock = new Stopwatch();
            long timedTokens = 0;
            new MlsaeTrainer(options, new ResidualStream(model, Enumerable.Range(0, 6).ToArray(), null), autoencoder, Path.Combine(Path.GetTempPath(), "mlsae-bench-" + Guid.NewGuid().ToString("N")))
                .Fit(BatchSource.InMemory(sequences, 1), null, [], resume: false, p =>
                {
                    if (p.Step == 1) clock.Start();   // the first step (warm-up, bias init) is not timed
                    else timedTokens += seq;
                });
            return timedTokens / clock.Elapsed.TotalSeconds;
        }
        double sparse = Measure(MlsaeKernels.Sparse);
        double dense = Measure(MlsaeKernels.Dense);
        return new Result(get_num_threads(), seq, batches, Math.Round(sparse), Math.Round(dense), Math.Round(sparse / dense, 2));
    }
}

using System.Diagnostics;
using Mlsae.Autoencoder;
using Mlsae.Metrics;
using Mlsae.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Mlsae.Bench;

/// <summary>
/// One MLSAE training step (forward, FVU + AuxK loss, backward, decoder renormalization and
/// gradient projection, Adam) on 4096 random vectors of D = 512, K = 32, AuxK = 256, fp32, at
/// expansion factors 32 and 64: the default kernels (sparse TopK encoder backward, EmbeddingBag
/// decode) against the straight port (dense autograd encoder, dense decode) in the same process.
/// Also splits the default step into forward and backward time.
/// </summary>
public static class SaeStepBench
{
    public sealed record Row(int ExpansionFactor, int Latents, double SparseVectorsPerSecond, double DenseVectorsPerSecond,
        double Speedup, double SparseForwardMs, double SparseBackwardMs, double SparseUpdateMs);

    public sealed record Result(int Threads, int Vectors, int DModel, int K, int AuxK, List<Row> Rows);

    public static Result Run(int vectors, int repeats, int[] expansions)
    {
        const int d = 512, k = 32, auxk = 256;
        var rows = new List<Row>();
        using var inputs = randn([1, 1, vectors, d], generator: new Generator(3));
        foreach (int x in expansions)
        {
            double Measure(MlsaeKernels kernels, out double forwardMs, out double backwardMs, out double updateMs)
            {
                var config = new MlsaeConfig { NInputs = d, NLatents = d * x, K = k, AuxK = auxk, DeadStepsThreshold = 76 };
                using var sae = MlsaeAutoencoder.Create(config, new DeadLatentRule(true, 10_000_000), seed: 0);
                sae.Kernels = kernels;
                using var adam = new AdamOptimizer(sae.Parameters, 1e-4);
                double bestTotal = double.MaxValue;
                forwardMs = backwardMs = updateMs = 0;
                for (int i = 0; i < repeats + 1; i++)
                {
                    using var scope = NewDisposeScope();
                    var clock = Stopwatch.StartNew();
                    var output = sae.Forward(inputs, training: true);
                    var loss = Fvu.Loss(inputs, output.Recons) + AuxKLoss.Compute(inputs, output, false, 1.0 / 32);
                    var forward = clock.Elapsed.TotalMilliseconds;
                    loss.backward();
                    var backward = clock.Elapsed.TotalMilliseconds - forward;
                    sae.NormalizeDecoder();
                    sae.ProjectDecoderGradient();
                    adam.StepOnce();
                    adam.ZeroGrad();
                    var total = clock.Elapsed.TotalMilliseconds;
                    if (i > 0 && total < bestTotal)   // the first step is a warm-up
                    {
                        bestTotal = total;
                        (forwardMs, backwardMs, updateMs) = (forward, backward, total - forward - backward);
                    }
                }
                return vectors / (bestTotal / 1000);
            }
            double sparse = Measure(MlsaeKernels.Sparse, out var f, out var b, out var u);
            double dense = Measure(MlsaeKernels.Dense, out _, out _, out _);
            rows.Add(new Row(x, d * x, Math.Round(sparse), Math.Round(dense), Math.Round(sparse / dense, 2), Math.Round(f, 1), Math.Round(b, 1), Math.Round(u, 1)));
        }
        return new Result(get_num_threads(), vectors, d, k, auxk, rows);
    }
}

using System.Diagnostics;
using Mlsae.Autoencoder;
using Mlsae.Coders;
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
        double Speedup, double SparseForwardMs, double SparseBackwardMs, double SparseUpdateMs, double SparseHalfDeadVectorsPerSecond,
        double DenseHalfDeadVectorsPerSecond);

    public sealed record Result(int Threads, int Vectors, int DModel, int K, int AuxK, List<Row> Rows, List<Phase> Phases);

    /// <summary>Milliseconds of the step's main operations, timed alone (best of the repeats).</summary>
    public sealed record Phase(int ExpansionFactor, double EncoderMatmulMs, double TopKMs, double AuxKTopKMs, double DecodeMs,
        double SparseWeightGradMs, double DenseWeightGradMs);

    static double Best(int repeats, Action run)
    {
        run();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            run();
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
        }
        return Math.Round(best, 1);
    }

    static Phase Profile(int x, int vectors, int repeats)
    {
        const int d = 512, k = 32, auxk = 256;
        int f = d * x;
        using var scope = NewDisposeScope();
        var u = randn([vectors, d], generator: new Generator(1));
        var w = randn([f, d], generator: new Generator(2)) / Math.Sqrt(d);
        var latents = u.mm(w.t());
        var (values, indices) = latents.topk(k, 1, true, false);
        var bag = nn.EmbeddingBag(f, d, mode: TorchSharp.EmbeddingBagMode.Sum);
        var grads = randn([vectors, k + auxk]);
        var all = cat([indices, latents.topk(auxk, 1, true, false).indexes], 1);
        return new Phase(x,
            Best(repeats, () => u.mm(w.t())),
            Best(repeats, () => latents.topk(k, 1, true, false)),
            Best(repeats, () => latents.topk(auxk, 1, true, false)),
            Best(repeats, () => bag.call(indices, null, values)),
            Best(repeats, () => sparse_coo_tensor(stack([all.reshape(-1), arange(vectors, dtype: ScalarType.Int64).repeat_interleave(k + auxk)]),
                grads.reshape(-1), [f, vectors]).mm(u)),
            Best(repeats, () => zeros([vectors, f]).scatter_(1, all, grads).t().mm(u)));
    }

    public static Result Run(int vectors, int repeats, int[] expansions)
    {
        const int d = 512, k = 32, auxk = 256;
        var rows = new List<Row>();
        using var inputs = randn([1, 1, vectors, d], generator: new Generator(3));
        foreach (int x in expansions)
        {
            // halfDead: half the latents start long unfired, so AuxK has real work (the fresh SAE has no dead latent).
            double Measure(MlsaeKernels kernels, out double forwardMs, out double backwardMs, out double updateMs, bool halfDead = false)
            {
                var config = new MlsaeConfig { NInputs = d, NLatents = d * x, K = k, AuxK = auxk, DeadStepsThreshold = 76 };
                using var sae = MlsaeAutoencoder.Create(config, new SparseCoderSettings { DeadTokensThreshold = 1_000_000_000, Kernels = kernels }, seed: 0);
                if (halfDead)
                    sae.DeadLatents.Load(null, (arange(d * x, dtype: ScalarType.Int64) % 2) * 2_000_000_000);
                using var adam = new AdamOptimizer(sae.Parameters, 1e-4);
                double bestTotal = double.MaxValue;
                forwardMs = backwardMs = updateMs = 0;
                for (int i = 0; i < repeats + 1; i++)
                {
                    using var scope = NewDisposeScope();
                    var clock = Stopwatch.StartNew();
                    var output = sae.Forward(inputs, training: true);
                    var loss = sae.Loss(inputs, output).Total;
                    var forward = clock.Elapsed.TotalMilliseconds;
                    loss.backward();
                    var backward = clock.Elapsed.TotalMilliseconds - forward;
                    sae.AfterBackward();
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
            double sparseDead = Measure(MlsaeKernels.Sparse, out _, out _, out _, halfDead: true);
            double denseDead = Measure(MlsaeKernels.Dense, out _, out _, out _, halfDead: true);
            rows.Add(new Row(x, d * x, Math.Round(sparse), Math.Round(dense), Math.Round(sparse / dense, 2), Math.Round(f, 1), Math.Round(b, 1), Math.Round(u, 1),
                Math.Round(sparseDead), Math.Round(denseDead)));
        }
        return new Result(get_num_threads(), vectors, d, k, auxk, rows, expansions.Select(x => Profile(x, vectors, repeats)).ToList());
    }
}

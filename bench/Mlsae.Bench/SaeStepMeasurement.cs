using System.Diagnostics;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Tensors;
using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Bench;

/// <summary>
/// One configuration of the SAE-step bench, run in its own process (<c>sae-step-config</c>): the
/// library's MLSAE training step (forward, FVU + AuxK loss, backward, decoder renormalization and
/// gradient projection, Adam) on random vectors of D = 512, K = 32, AuxK = 256.
/// </summary>
public static class SaeStepMeasurement
{
    const int D = 512, K = 32, AuxK = 256;
    /// <summary>The half-dead latents' encoder rows are scaled by this, as in <c>bench/reference/sae_step.py</c>.</summary>
    public const double HalfDeadScale = 0.25;

    /// <summary>Times <paramref name="warmup"/> + <paramref name="repeats"/> steps and reports the fastest timed one.</summary>
    public static StepMeasurement Run(int expansion, ScalarType dtype, bool halfDead, MlsaeKernels kernels, int vectors, int repeats, int warmup)
    {
        int f = D * expansion;
        using var inputs = randn([1, 1, vectors, D], generator: new Generator(3));      // [L, B, T, D]
        var config = new MlsaeConfig { NInputs = D, NLatents = f, K = K, AuxK = AuxK, DeadStepsThreshold = 76 };
        var settings = new SparseCoderSettings { DeadTokensThreshold = 1_000_000_000, Kernels = kernels, ComputeDType = dtype };
        using var sae = MlsaeAutoencoder.Create(config, settings, seed: 0);
        if (halfDead) MarkHalfDead(sae);
        using var adam = new AdamOptimizer(sae.Parameters, 1e-4);
        var setupRss = ProcessMemory.RssMiB();
        StepMeasurement? best = null;
        for (int i = 0; i < warmup + repeats; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var output = sae.Forward(inputs, training: true);
            var loss = sae.Loss(inputs, output).Total;
            var forward = clock.Elapsed.TotalMilliseconds;
            loss.backward();
            var backward = clock.Elapsed.TotalMilliseconds - forward;
            // The trainer's step (AfterBackward does nothing outside the reference's quirks): the
            // gradient projection, Adam, the renormalization, as the reference's step does them.
            sae.AfterBackward();
            adam.StepCoder(sae);
            var total = clock.Elapsed.TotalMilliseconds;
            if (i < warmup || (best is not null && total >= best.StepMs)) continue;
            best = new StepMeasurement
            {
                VectorsPerSecond = Math.Round(vectors / (total / 1000), 1), StepMs = Math.Round(total, 1),
                ForwardMs = Math.Round(forward, 1), BackwardMs = Math.Round(backward, 1), UpdateMs = Math.Round(total - forward - backward, 1),
                Loss = loss.item<float>(), DeadFraction = output.Dead.item<float>(),
            };
        }
        var peakRss = ProcessMemory.PeakRssMiB();   // before the floor's own [N, F] product
        double floor = FloorMs(vectors, f, dtype, repeats);
        return best! with
        {
            FloorMs = Math.Round(floor, 1), FloorMultiple = Math.Round(best!.StepMs / floor, 2), SetupRssMiB = setupRss, PeakRssMiB = peakRss,
            BFloat16Matmul = BFloat16Matmul.PathFor(dtype),
        };
    }

    /// <summary>Every odd latent unfired for far longer than the threshold, its encoder row scaled by
    /// <see cref="HalfDeadScale"/> so that it never wins TopK and stays dead through the timed steps
    /// (a latent that fires is live again at once, and at init nearly all fire in 4096 vectors).</summary>
    static void MarkHalfDead(MlsaeAutoencoder sae)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var odd = (arange(sae.NLatents, dtype: ScalarType.Int64) % 2).to(ScalarType.Bool);   // [F]
        sae.DeadLatents.Load(null, odd.to(ScalarType.Int64) * 2_000_000_000L);
        sae.Encoder.mul_((odd.to(ScalarType.Float32) * (HalfDeadScale - 1) + 1).unsqueeze(1));   // [F, 1]: 1 or the scale
    }

    /// <summary>The encoder's [N, D]·[D, F] in <paramref name="dtype"/> as the step computes it (widened
    /// bfloat16: a float32 product of bfloat16 values), best of <paramref name="repeats"/>, ms.</summary>
    static double FloorMs(int n, int f, ScalarType dtype, int repeats)
    {
        using var scope = NewDisposeScope();
        var u = randn([n, D]).to(dtype);
        var w = randn([f, D]).to(dtype);
        if (BFloat16Matmul.PathFor(dtype) == "widened")
        {
            u = u.to(ScalarType.Float32);
            w = w.to(ScalarType.Float32);
        }
        u.mm(w.t());
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            using var inner = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            u.mm(w.t());
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
        }
        return best;
    }
}

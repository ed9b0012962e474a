using System.Diagnostics;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Data;
using Mlsae.Metrics;
using Mlsae.Models;
using Mlsae.Tensors;
using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Bench;

/// <summary>
/// One configuration of the train-pipeline bench, run in its own process (<c>train-pipeline-config</c>):
/// the library's trainer end to end on a Pythia-70m-shaped model (random weights; d = 512, 6 layers),
/// one batch of one sequence per optimizer step, x16, K 32, AuxK 256; then where the time goes, by
/// running the trainer's pieces the way <c>MlsaeTrainer</c> runs them (it offers no timing hooks).
/// The first batch (bias initialization, warm-up) is never timed.
/// </summary>
public static class TrainPipelineMeasurement
{
    /// <summary>What one configuration measured.</summary>
    public sealed record Result
    {
        /// <summary>Tokens per second through <c>MlsaeTrainer.Fit</c>.</summary>
        public double TokensPerSecond { get; init; }
        /// <summary>Mean ms per batch of each piece in the replica: DataMs, TransformerMs, SaeForwardMs, BackwardMs, UpdateMs.</summary>
        public Dictionary<string, double>? Breakdown { get; init; }
        /// <summary>Tokens per second of the replica (its pieces summed): near <see cref="TokensPerSecond"/> when the breakdown is faithful.</summary>
        public double? BreakdownTokensPerSecond { get; init; }
        /// <summary>Resident memory after the model and the SAE are built, MiB.</summary>
        public double? SetupRssMiB { get; init; }
        /// <summary>Peak resident memory (VmHWM) through the trainer's run, MiB.</summary>
        public double? PeakRssMiB { get; init; }
        /// <summary>How bfloat16 matmuls ran (<see cref="StepMeasurement.BFloat16Matmul"/>); null for float32.</summary>
        public string? BFloat16Matmul { get; init; }
        /// <summary>Why the configuration produced no numbers, or null.</summary>
        public string? Error { get; init; }
    }

    static readonly GptNeoXConfig Pythia70m = new()
    {
        HiddenSize = 512, NumAttentionHeads = 8, NumHiddenLayers = 6, IntermediateSize = 2048, VocabSize = 50304,
        MaxPositionEmbeddings = 2048, RotaryPct = 0.25, UseParallelResidual = true,
    };

    /// <summary>Trains on <paramref name="sequences"/> (the first untimed) and times the pieces.</summary>
    public static Result Run(IReadOnlyList<long[]> sequences, ScalarType dtype, MlsaeKernels kernels, bool breakdown)
    {
        if (sequences.Count < 2) throw new MlsaeException("--tokens: needs at least 2 sequences (the first is a warm-up)");
        int seq = sequences[0].Length;
        // The transformer runs in the dtype too, as `train --dtype` has it (the SAE keeps float32 master weights).
        using var model = GptNeoXLoader.Move(GptNeoXInit.Create(Pythia70m, seed: 0), CPU, dtype);
        var stream = new ResidualStream(model, Enumerable.Range(0, 6).ToArray(), null);
        var options = new TrainOptions
        {
            Model = new ModelOptions { Name = "bench" },
            Data = new TrainDataOptions { Source = "bench", MaxLength = seq, BatchSize = 1 },
            Autoencoder = new AutoencoderOptions { DType = DTypes.Name(dtype) },
            Optimizer = new OptimizerOptions { AccumulateGradBatches = 1, MaxTokens = (long)seq * sequences.Count },
            Runtime = new RuntimeOptions { ValEvery = 0, CheckpointEvery = 1_000_000, LogEvery = 1_000_000 },
        };
        MlsaeAutoencoder NewSae() => MlsaeAutoencoder.Create(
            new MlsaeConfig { NInputs = 512, NLatents = 512 * 16, K = 32, AuxK = 256, DeadStepsThreshold = options.DeadStepsThreshold },
            CoderSettings.Of(options) with { Kernels = kernels }, seed: 0);
        double? setupRss;
        double tokensPerSecond;
        using (var sae = NewSae())
        {
            setupRss = ProcessMemory.RssMiB();
            tokensPerSecond = Fit(options, stream, sae, sequences);
        }
        var peakRss = ProcessMemory.PeakRssMiB();
        var result = new Result
        {
            TokensPerSecond = Math.Round(tokensPerSecond, 1), SetupRssMiB = setupRss, PeakRssMiB = peakRss,
            BFloat16Matmul = BFloat16Matmul.PathFor(dtype),
        };
        if (!breakdown) return result;
        using var replicaSae = NewSae();
        var (pieces, totalMs) = Replica(options, stream, replicaSae, sequences);
        int timed = sequences.Count - 1;
        return result with
        {
            Breakdown = pieces.ToDictionary(p => p.Key, p => Math.Round(p.Value / timed, 1)),
            BreakdownTokensPerSecond = Math.Round((double)seq * timed / (totalMs / 1000), 1),
        };
    }

    /// <summary>The trainer's own loop; tokens/s over every batch after the first.</summary>
    static double Fit(TrainOptions options, ResidualStream stream, MlsaeAutoencoder sae, IReadOnlyList<long[]> sequences)
    {
        var clock = new Stopwatch();
        long timedTokens = 0;
        var runDir = Path.Combine(Path.GetTempPath(), "mlsae-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            new MlsaeTrainer(options, stream, sae, runDir).Fit(BatchSource.InMemory(sequences, 1), null, [], resume: false, p =>
            {
                if (p.Step == 1) clock.Start();   // the first step (warm-up, bias init) is not timed
                else timedTokens += options.TokensPerBatch;
            });
            clock.Stop();
        }
        finally
        {
            if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        }
        return timedTokens / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The trainer's batch, piece by piece as <c>MlsaeTrainer.TrainBatch</c> and <c>Step</c> run it
    /// (accumulation 1): data (the batch stream and its tensor), transformer (the residual stream),
    /// SAE forward (forward, loss, its value read back), backward, update (renormalization and
    /// projection, the batch metrics, Adam). Sums over every batch after the first, ms.
    /// </summary>
    static (Dictionary<string, double> Pieces, double TotalMs) Replica(TrainOptions options, ResidualStream stream, MlsaeAutoencoder sae,
        IReadOnlyList<long[]> sequences)
    {
        using var adam = new AdamOptimizer(sae.Parameters, options.Optimizer.Lr);
        var aggregate = new StepAggregate();
        var pieces = new Dictionary<string, double> { ["DataMs"] = 0, ["TransformerMs"] = 0, ["SaeForwardMs"] = 0, ["BackwardMs"] = 0, ["UpdateMs"] = 0 };
        double totalMs = 0;
        using var batches = BatchSource.InMemory(sequences, 1)(null).GetEnumerator();
        for (int i = 0; ; i++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            double last = 0;
            void Lap(string name)
            {
                double now = clock.Elapsed.TotalMilliseconds;
                if (i > 0) pieces[name] += now - last;
                last = now;
            }
            if (!batches.MoveNext()) break;
            var batch = batches.Current;
            var tokens = stream.Tokens(batch.Sequences);                               // [B, T]
            Lap("DataMs");
            var inputs = stream.Forward(tokens);                                       // [L, B, T, D]
            Lap("TransformerMs");
            if (i == 0) sae.InitializeFromFirstBatch(inputs);
            var output = sae.Forward(inputs, training: true);
            var loss = sae.Loss(inputs, output);
            double value = loss.Total.item<float>();
            Lap("SaeForwardMs");
            (loss.Total / options.Optimizer.AccumulateGradBatches).backward();
            Lap("BackwardMs");
            sae.AfterBackward();
            using (no_grad())
            {
                var selections = SparsityMetrics.Selections(output.TopK.Indices, sae.NLatents);
                aggregate.Add(new BatchMetrics(value, loss.FvuMean.item<float>(), loss.AuxK.item<float>(), ToArray(loss.Fvu),
                    ToArray(SparsityMetrics.L0(output.TopK.Values, sae.DeadThreshold)), ToArray(SparsityMetrics.L1(output.TopK.Values)),
                    ToArray(Fvu.LayerMse(inputs, output.Recons)), output.Dead.item<float>(),
                    SparsityMetrics.DeadFraction(selections, batch.Tokens, options.Autoencoder.DeadTokensThreshold)));
            }
            adam.StepCoder(sae);   // the trainer's step: projection, Adam, renormalization
            Lap("UpdateMs");
            if (i > 0) totalMs += last;
        }
        return (pieces, totalMs);
    }

    static double[] ToArray(Tensor t) => t.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
}

using System.Globalization;
using System.Text.Json;

namespace Mlsae.Bench;

/// <summary>
/// The end-to-end training pipeline on a Pythia-70m-shaped model (random weights; d = 512, 6
/// layers): transformer forward over all layers, MLSAE step over the 6·T vectors, x16, K 32,
/// AuxK 256, one batch of one sequence per optimizer step. Per compute dtype our trainer's tokens/s
/// (<see cref="TrainPipelineMeasurement"/>, each in a child process) beside the Python reference's
/// pipeline on the same tokens (<c>bench/reference/train_pipeline.py</c>: a hand-written GPT-NeoX
/// forward plus the reference's step, fp32, OpenBLAS), with where each side's time goes and peak RSS.
/// </summary>
public static class TrainPipelineBench
{
    /// <summary>One dtype: ours, the reference's fp32 pipeline beside it, the ratio. A null number is a
    /// side that did not run (see <see cref="Error"/>, <see cref="ReferenceError"/>).</summary>
    public sealed record Row
    {
        /// <summary><c>float32</c> or <c>bfloat16</c>: our compute dtype, the transformer's and the SAE
        /// encoder's, as <c>train --dtype</c> (the reference is float32).</summary>
        public required string Dtype { get; init; }
        /// <summary>How our bfloat16 matmuls ran: <c>widened</c> or <c>native</c>; null for float32.</summary>
        public string? BFloat16Matmul { get; init; }
        /// <summary>Our trainer's tokens/s.</summary>
        public double? TokensPerSecond { get; init; }
        /// <summary>The reference pipeline's tokens/s (fp32).</summary>
        public double? ReferenceTokensPerSecond { get; init; }
        /// <summary><see cref="TokensPerSecond"/> / <see cref="ReferenceTokensPerSecond"/>.</summary>
        public double? RatioToReference { get; init; }
        /// <summary>Where our batch's time goes, mean ms: DataMs, TransformerMs, SaeForwardMs, BackwardMs, UpdateMs.</summary>
        public Dictionary<string, double>? Breakdown { get; init; }
        /// <summary>Tokens/s of our replica whose pieces the breakdown times.</summary>
        public double? BreakdownTokensPerSecond { get; init; }
        /// <summary>The same pieces in the reference's batch, mean ms.</summary>
        public Dictionary<string, double>? ReferenceBreakdown { get; init; }
        public double? PeakRssMiB { get; init; }
        public double? ReferencePeakRssMiB { get; init; }
        /// <summary>The straight port (dense kernels), with <c>--straight-port</c>, float32 only.</summary>
        public double? StraightPortTokensPerSecond { get; init; }
        public string? Error { get; init; }
        public string? ReferenceError { get; init; }
    }

    /// <summary>The bench's output. <c>LoadBefore</c>/<c>LoadAfter</c>: the machine's load averages around the run.</summary>
    public sealed record Result(string Benchmark, int Threads, int SeqLength, int TimedBatches, int ExpansionFactor,
        double[]? LoadBefore, double[]? LoadAfter, PythonReference.Info Reference, List<Row> Rows);

    /// <summary>What the reference's script reports (the fields this bench reads).</summary>
    sealed record ReferenceResult(double TokensPerSecond, Dictionary<string, double>? Breakdown, double? PeakRssMiB);

    public static Result Run(BenchArgs args)
    {
        int seq = args.Int("--seq", 2048), batches = args.Int("--batches", 4), threads = args.Int("--threads", 2);
        var dtypes = args.DTypeNames("--dtypes", "float32,bfloat16");
        bool straightPort = args.Switch("--straight-port");
        var loadBefore = MachineLoad.Now();
        var availability = PythonReference.Discover(args.Value("--python"), args.Switch("--no-reference"),
            args.String("--blas-cache", PrivateOpenBlas.DefaultCache));
        if (availability.Reason is not null) Console.Error.WriteLine($"reference: not run: {availability.Reason}");
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        var tokensPath = Path.Combine(Path.GetTempPath(), $"mlsae-bench-tokens-{Guid.NewGuid():N}.bin");
        try
        {
            BenchTokens.Write(tokensPath, BenchTokens.Generate(batches + 1, seq));
            (TrainPipelineMeasurement.Result? Value, string? Error) Ours(string dtype, string kernels, bool breakdown)
            {
                string[] a = ["train-pipeline-config", "--tokens", tokensPath, "--seq", I(seq), "--dtype", dtype, "--kernels", kernels, "--threads", I(threads),
                    .. breakdown ? Array.Empty<string>() : ["--no-breakdown"]];
                var outcome = ChildProcess.Run(ChildProcess.Self(a), $"pipeline {dtype} {kernels}");
                var value = outcome.Json?.Deserialize<TrainPipelineMeasurement.Result>();
                return (value, outcome.Error ?? value?.Error);
            }
            ReferenceResult? reference = null;
            string? referenceError = availability.Reason;
            JsonElement? referenceJson = null;
            if (availability.Runtime is PythonReference.Runtime runtime)
            {
                var outcome = PythonReference.Run(runtime, "train_pipeline.py", ["--tokens", tokensPath, "--seq", I(seq), "--threads", I(threads)],
                    threads, "reference pipeline");
                referenceJson = outcome.Json;
                reference = outcome.Json?.Deserialize<ReferenceResult>();
                referenceError = outcome.Error;
            }
            var rows = new List<Row>();
            foreach (var dtype in dtypes)
            {
                var (ours, error) = Ours(dtype, "sparse", breakdown: true);
                double? port = null;
                if (straightPort && dtype == "float32") port = Ours(dtype, "dense", breakdown: false).Value?.TokensPerSecond;
                double? tps = error is null ? ours?.TokensPerSecond : null;
                var row = new Row
                {
                    Dtype = dtype, BFloat16Matmul = ours?.BFloat16Matmul, TokensPerSecond = tps, ReferenceTokensPerSecond = reference?.TokensPerSecond,
                    RatioToReference = tps is double a && reference?.TokensPerSecond is double b && b > 0 ? Math.Round(a / b, 2) : null,
                    Breakdown = ours?.Breakdown, BreakdownTokensPerSecond = ours?.BreakdownTokensPerSecond, ReferenceBreakdown = reference?.Breakdown,
                    PeakRssMiB = ours?.PeakRssMiB, ReferencePeakRssMiB = reference?.PeakRssMiB, StraightPortTokensPerSecond = port,
                    Error = error, ReferenceError = referenceError,
                };
                Console.Error.WriteLine($"train-pipeline {dtype}: {row.TokensPerSecond?.ToString("F0") ?? "-"} tokens/s "
                    + $"(reference fp32 {row.ReferenceTokensPerSecond?.ToString("F0") ?? "-"}, ratio {row.RatioToReference?.ToString("F2") ?? "-"})");
                rows.Add(row);
            }
            return new Result("train-pipeline", threads, seq, batches, 16, loadBefore, MachineLoad.Now(), PythonReference.Describe(availability, referenceJson), rows);
        }
        finally
        {
            File.Delete(tokensPath);
        }
    }
}

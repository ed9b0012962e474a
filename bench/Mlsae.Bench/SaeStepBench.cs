using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using static TorchSharp.torch;

namespace Mlsae.Bench;

/// <summary>
/// One MLSAE training step (forward, FVU + AuxK loss, backward, decoder renormalization and
/// gradient projection, Adam) on 4096 random vectors of D = 512, K = 32, AuxK = 256, per expansion
/// factor and compute dtype, against the Python reference's fp32 step run in the same bench run
/// (<c>bench/reference/sae_step.py</c>, torch with OpenBLAS). Each configuration runs in a child
/// process of its own, fresh and with half the latents dead (so that AuxK works), and reports its
/// peak RSS. With <c>--straight-port</c> also the in-process straight port (dense encoder backward,
/// dense decode). Also splits the default step's main operations (<see cref="Phase"/>).
/// </summary>
public static class SaeStepBench
{
    const int D = 512, K = 32, AuxK = 256;

    /// <summary>One expansion factor and dtype: ours, the reference's fp32 step beside it, the ratios.
    /// A null number is a configuration that did not run (see <see cref="Error"/>, <see cref="ReferenceError"/>).</summary>
    public sealed record Row
    {
        public required int ExpansionFactor { get; init; }
        /// <summary><c>float32</c> or <c>bfloat16</c>: our encoder's compute dtype (the reference's is always float32).</summary>
        public required string Dtype { get; init; }
        public required int Latents { get; init; }
        /// <summary>Our step with the default (sparse) kernels on a fresh SAE, vectors/s.</summary>
        public double? SparseVectorsPerSecond { get; init; }
        /// <summary>The same with half the latents dead, vectors/s.</summary>
        public double? SparseHalfDeadVectorsPerSecond { get; init; }
        /// <summary>The reference's fp32 step on a fresh SAE, vectors/s.</summary>
        public double? ReferenceVectorsPerSecond { get; init; }
        /// <summary>The reference's fp32 step with half the latents dead, vectors/s.</summary>
        public double? ReferenceHalfDeadVectorsPerSecond { get; init; }
        /// <summary><see cref="SparseVectorsPerSecond"/> / <see cref="ReferenceVectorsPerSecond"/>.</summary>
        public double? RatioToReference { get; init; }
        /// <summary><see cref="SparseHalfDeadVectorsPerSecond"/> / <see cref="ReferenceHalfDeadVectorsPerSecond"/>.</summary>
        public double? RatioToReferenceHalfDead { get; init; }
        public double? ForwardMs { get; init; }
        public double? BackwardMs { get; init; }
        public double? UpdateMs { get; init; }
        /// <summary>Our encoder matmul [N, D]·[D, F] alone in this dtype, ms.</summary>
        public double? FloorMs { get; init; }
        /// <summary>Our fresh step time over <see cref="FloorMs"/>.</summary>
        public double? FloorMultiple { get; init; }
        /// <summary>How our bfloat16 matmuls ran: <c>widened</c> or <c>native</c> (<see cref="StepMeasurement.BFloat16Matmul"/>); null for float32.</summary>
        public string? BFloat16Matmul { get; init; }
        /// <summary>Dead fraction our half-dead steps saw (≈0.5).</summary>
        public double? HalfDeadFraction { get; init; }
        /// <summary>Peak RSS (VmHWM) of our fresh configuration's process, MiB.</summary>
        public double? PeakRssMiB { get; init; }
        public double? HalfDeadPeakRssMiB { get; init; }
        public double? ReferenceForwardMs { get; init; }
        public double? ReferenceBackwardMs { get; init; }
        public double? ReferenceUpdateMs { get; init; }
        /// <summary>The reference's fp32 encoder matmul alone (its BLAS), ms.</summary>
        public double? ReferenceFloorMs { get; init; }
        public double? ReferenceFloorMultiple { get; init; }
        public double? ReferenceHalfDeadFraction { get; init; }
        public double? ReferencePeakRssMiB { get; init; }
        public double? ReferenceHalfDeadPeakRssMiB { get; init; }
        /// <summary>The straight port (dense kernels), with <c>--straight-port</c>, float32 rows only.</summary>
        public double? StraightPortVectorsPerSecond { get; init; }
        public double? StraightPortHalfDeadVectorsPerSecond { get; init; }
        /// <summary>Why our configuration produced no numbers (e.g. a dtype that fails on this machine), or null.</summary>
        public string? Error { get; init; }
        /// <summary>Why the reference's numbers are missing (no Python with torch, no OpenBLAS, a failed run), or null.</summary>
        public string? ReferenceError { get; init; }
    }

    /// <summary>Milliseconds of the step's main operations at fp32, timed alone (best of the repeats).</summary>
    public sealed record Phase(int ExpansionFactor, double EncoderMatmulMs, double TopKMs, double AuxKTopKMs, double DecodeMs,
        double SparseWeightGradMs, double DenseWeightGradMs);

    /// <summary>The bench's output. <c>LoadBefore</c>/<c>LoadAfter</c>: the machine's load averages around the run.</summary>
    public sealed record Result(string Benchmark, int Threads, int Vectors, int DModel, int K, int AuxK, int Repeats, int Warmup,
        double[]? LoadBefore, double[]? LoadAfter, PythonReference.Info Reference, List<Row> Rows, List<Phase>? Phases);

    /// <summary>What ours and the reference measured for one expansion factor and dtype (fresh and
    /// half dead); a measurement with <see cref="StepMeasurement.Error"/> set has no numbers.</summary>
    public sealed record Measured(StepMeasurement Fresh, StepMeasurement HalfDead, StepMeasurement? StraightPort = null,
        StepMeasurement? StraightPortHalfDead = null);

    /// <summary>The row of one expansion factor and dtype. <paramref name="reference"/> is null when
    /// the reference did not run (then <paramref name="referenceReason"/> says why).</summary>
    public static Row Compose(int expansion, string dtype, Measured ours, Measured? reference, string? referenceReason)
    {
        static double? Ok(StepMeasurement? m, Func<StepMeasurement, double> pick) => m is { Error: null } ? pick(m) : null;
        static double? Ratio(double? a, double? b) => a is double x && b is double y && y > 0 ? Math.Round(x / y, 2) : null;
        var sparse = Ok(ours.Fresh, m => m.VectorsPerSecond);
        var sparseDead = Ok(ours.HalfDead, m => m.VectorsPerSecond);
        var refFresh = reference?.Fresh;
        var refDead = reference?.HalfDead;
        var refValue = Ok(refFresh, m => m.VectorsPerSecond);
        var refDeadValue = Ok(refDead, m => m.VectorsPerSecond);
        var errors = new[] { ours.Fresh.Error, ours.HalfDead.Error }.OfType<string>().Distinct().ToList();
        var refErrors = reference is null
            ? [referenceReason ?? "the reference did not run"]
            : new[] { refFresh!.Error, refDead!.Error }.OfType<string>().Distinct().ToList();
        return new Row
        {
            ExpansionFactor = expansion, Dtype = dtype, Latents = D * expansion,
            SparseVectorsPerSecond = sparse, SparseHalfDeadVectorsPerSecond = sparseDead,
            ReferenceVectorsPerSecond = refValue, ReferenceHalfDeadVectorsPerSecond = refDeadValue,
            RatioToReference = Ratio(sparse, refValue), RatioToReferenceHalfDead = Ratio(sparseDead, refDeadValue),
            ForwardMs = Ok(ours.Fresh, m => m.ForwardMs), BackwardMs = Ok(ours.Fresh, m => m.BackwardMs), UpdateMs = Ok(ours.Fresh, m => m.UpdateMs),
            FloorMs = Ok(ours.Fresh, m => m.FloorMs), FloorMultiple = Ok(ours.Fresh, m => m.FloorMultiple),
            HalfDeadFraction = Ok(ours.HalfDead, m => m.DeadFraction), BFloat16Matmul = ours.Fresh.BFloat16Matmul,
            PeakRssMiB = ours.Fresh.PeakRssMiB, HalfDeadPeakRssMiB = ours.HalfDead.PeakRssMiB,
            ReferenceForwardMs = Ok(refFresh, m => m.ForwardMs), ReferenceBackwardMs = Ok(refFresh, m => m.BackwardMs),
            ReferenceUpdateMs = Ok(refFresh, m => m.UpdateMs), ReferenceFloorMs = Ok(refFresh, m => m.FloorMs),
            ReferenceFloorMultiple = Ok(refFresh, m => m.FloorMultiple), ReferenceHalfDeadFraction = Ok(refDead, m => m.DeadFraction),
            ReferencePeakRssMiB = refFresh?.PeakRssMiB, ReferenceHalfDeadPeakRssMiB = refDead?.PeakRssMiB,
            StraightPortVectorsPerSecond = Ok(ours.StraightPort, m => m.VectorsPerSecond),
            StraightPortHalfDeadVectorsPerSecond = Ok(ours.StraightPortHalfDead, m => m.VectorsPerSecond),
            Error = errors.Count == 0 ? null : string.Join("; ", errors),
            ReferenceError = refErrors.Count == 0 ? null : string.Join("; ", refErrors),
        };
    }

    /// <summary>Runs every configuration (children) and the reference, and returns the rows.</summary>
    public static Result Run(BenchArgs args)
    {
        int vectors = args.Int("--vectors", 4096), repeats = args.Int("--repeats", 3), warmup = args.Int("--warmup", 1, min: 0);
        int threads = args.Int("--threads", 2);
        var expansions = args.Ints("--expansions", "32,64");
        var dtypes = args.DTypeNames("--dtypes", "float32,bfloat16");
        bool straightPort = args.Switch("--straight-port");
        set_num_threads(threads);
        var loadBefore = MachineLoad.Now();
        var availability = PythonReference.Discover(args.Value("--python"), args.Switch("--no-reference"),
            args.String("--blas-cache", PrivateOpenBlas.DefaultCache));
        if (availability.Reason is not null) Console.Error.WriteLine($"reference: not run: {availability.Reason}");
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        var common = new[] { "--vectors", I(vectors), "--repeats", I(repeats), "--warmup", I(warmup), "--threads", I(threads) };

        StepMeasurement Ours(int x, string dtype, bool halfDead, string kernels)
        {
            string[] extra = [.. common, "--expansion", I(x), "--dtype", dtype, "--kernels", kernels, .. halfDead ? new[] { "--half-dead" } : []];
            return Parse(ChildProcess.Run(ChildProcess.Self(["sae-step-config", .. extra]), $"x{x} {dtype} {kernels}{(halfDead ? " half-dead" : "")}"));
        }
        var rows = new List<Row>();
        JsonElement? firstReference = null;   // its BLAS facts go into the output's Reference block
        StepMeasurement Reference(PythonReference.Runtime runtime, int x, bool halfDead)
        {
            var outcome = PythonReference.Run(runtime, "sae_step.py", [.. common, "--expansion", I(x), .. halfDead ? new[] { "--half-dead" } : []],
                threads, $"reference x{x}{(halfDead ? " half-dead" : "")}");
            firstReference ??= outcome.Json;
            return Parse(outcome);
        }
        foreach (int x in expansions)
        {
            Measured? reference = null;
            if (availability.Runtime is PythonReference.Runtime runtime)
            {
                reference = new Measured(Reference(runtime, x, false), Reference(runtime, x, true));
            }
            foreach (var dtype in dtypes)
            {
                var ours = new Measured(Ours(x, dtype, false, "sparse"), Ours(x, dtype, true, "sparse"));
                if (straightPort && dtype == "float32")
                    ours = ours with { StraightPort = Ours(x, dtype, false, "dense"), StraightPortHalfDead = Ours(x, dtype, true, "dense") };
                var row = Compose(x, dtype, ours, reference, availability.Reason);
                Console.Error.WriteLine($"sae-step x{x} {dtype}: {row.SparseVectorsPerSecond?.ToString("F0") ?? "-"} vectors/s "
                    + $"(reference fp32 {row.ReferenceVectorsPerSecond?.ToString("F0") ?? "-"}, ratio {row.RatioToReference?.ToString("F2") ?? "-"})");
                rows.Add(row);
            }
        }
        var info = PythonReference.Describe(availability, firstReference);
        var phases = args.Switch("--no-phases") ? null : expansions.Select(x => Profile(x, vectors, repeats)).ToList();
        return new Result("sae-step", threads, vectors, D, K, AuxK, repeats, warmup, loadBefore, MachineLoad.Now(), info, rows, phases);
    }

    /// <summary>A child's outcome as a measurement (its error when it failed).</summary>
    static StepMeasurement Parse(ChildProcess.Outcome outcome) => outcome.Json is JsonElement json
        ? json.Deserialize<StepMeasurement>() ?? new StepMeasurement { Error = "empty result" }
        : new StepMeasurement { Error = outcome.Error };

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
        int f = D * x;
        using var scope = NewDisposeScope();
        var u = randn([vectors, D], generator: new Generator(1));
        var w = randn([f, D], generator: new Generator(2)) / Math.Sqrt(D);
        var latents = u.mm(w.t());
        var (values, indices) = latents.topk(K, 1, true, false);
        var bag = nn.EmbeddingBag(f, D, mode: TorchSharp.EmbeddingBagMode.Sum);
        var grads = randn([vectors, K + AuxK]);
        var all = cat([indices, latents.topk(AuxK, 1, true, false).indexes], 1);
        return new Phase(x,
            Best(repeats, () => u.mm(w.t())),
            Best(repeats, () => latents.topk(K, 1, true, false)),
            Best(repeats, () => latents.topk(AuxK, 1, true, false)),
            Best(repeats, () => bag.call(indices, null, values)),
            Best(repeats, () => sparse_coo_tensor(stack([all.reshape(-1), arange(vectors, dtype: ScalarType.Int64).repeat_interleave(K + AuxK)]),
                grads.reshape(-1), [f, vectors]).mm(u)),
            Best(repeats, () => zeros([vectors, f]).scatter_(1, all, grads).t().mm(u)));
    }
}

using System.Diagnostics;
using System.Text;
using Mlsae.Coders;
using Mlsae.Data;
using Mlsae.Distributed;
using Mlsae.Evaluation;
using Mlsae.IO;
using Mlsae.Metrics;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Training;

/// <summary>
/// Trains a sparse coder (an MLSAE, or any <see cref="ISparseCoder"/>) as the reference's Lightning
/// module does: each batch's residual stream <c>[L, B, T, D]</c> goes through the coder, its loss
/// (the MLSAE's: mean FVU over layers + AuxK) is divided by the accumulation count and
/// backpropagated, and Adam steps every <c>accumulate_grad_batches</c> batches. The first batch
/// initializes the coder (the MLSAE's pre-encoder bias at its geometric median). The run folder gets
/// metrics, validation, resumable checkpoints and the coder's checkpoint. The loss and everything
/// else about the coder's computation come from its own settings; the options
/// supplies the schedule.
/// <para>
/// The order of a step: every micro-batch runs forward and backward on the parameters and the
/// dead-latent mask the step began with; then the gradients (and the dead-latent tally) are summed
/// over the data-parallel ranks (<see cref="IDataParallel"/>), the coder's <see cref="ISparseCoder.BeforeStep"/>
/// runs (the MLSAE projects its decoder gradient), Adam steps, and <see cref="ISparseCoder.AfterStep"/>
/// (the MLSAE renormalizes its decoder, its dead-latent counters take the step's firings). So one
/// process and many ranks take the same steps. Under <c>--reference-quirks</c> the coder keeps the
/// reference's order instead: renormalization and projection after every backward, counters per call.
/// </para>
/// </summary>
public sealed class MlsaeTrainer
{
    readonly TrainOptions options;
    readonly ResidualStream stream;
    readonly ISparseCoder sae;
    readonly string runDir;
    readonly IDataParallel parallel;

    /// <summary>A trainer of <paramref name="sae"/> on <paramref name="stream"/> into <paramref name="runDir"/>,
    /// as one rank of <paramref name="parallel"/> (null: one process).</summary>
    public MlsaeTrainer(TrainOptions options, ResidualStream stream, ISparseCoder sae, string runDir, IDataParallel? parallel = null)
    {
        (this.options, this.stream, this.sae, this.runDir, this.parallel) = (options, stream, sae, runDir, parallel ?? SingleProcess.Instance);
        if (options.Optimizer.AccumulateGradBatches % this.parallel.Size != 0)
            throw new MlsaeException($"--accumulate-grad-batches {options.Optimizer.AccumulateGradBatches} must be a multiple of the {this.parallel.Size} ranks, so every step has the same micro-batches as in one process");
        if (this.parallel.Size > 1 && sae.Settings.ReferenceQuirks)
            throw new MlsaeException("--reference-quirks: the reference's order (decoder renormalized and dead latents counted after every micro-batch) depends on which micro-batches one process sees, so it cannot be spread over ranks; train it in one process");
    }

    /// <summary>The <c>metrics.jsonl</c> of the run.</summary>
    public string MetricsPath => Path.Combine(runDir, "metrics.jsonl");

    /// <summary>
    /// Runs to <see cref="OptimizerOptions.MaxTokens"/> or the end of the data. <paramref name="batches"/>
    /// opens the training stream at a position (null: <paramref name="start"/>, where training
    /// begins after any held-out validation batches). With <paramref name="resume"/> the state saved
    /// in the run folder is loaded and the stream reopened where it stood, without reading what
    /// was consumed (a state from before positions were saved skips the consumed batches instead).
    /// </summary>
    public TrainingState Fit(Func<DataPosition?, IEnumerable<TokenBatch>> batches, DataPosition? start, IReadOnlyList<TokenBatch> validation,
        bool resume, Action<TrainProgress>? progress = null)
    {
        using var session = Begin(validation, resume, start, progress);
        var opened = resume && session.State.Position is null ? batches(start).Skip(checked((int)session.State.Batches)) : batches(session.State.Position);
        foreach (var batch in Timings.TimeWaits(Prefetch.Ahead(opened, PrefetchBatches)))
        {
            if (session.Finished) break;
            using var scope = NewDisposeScope();
            session.Consume(batch, session.TakesNext ? Inputs(batch) : null);
        }
        var final = session.End();
        if (parallel.Writes()) ResultJson.Write(Path.Combine(runDir, TimingsFile), Timings.ToJson(final.Tokens - session.StartTokens));
        return final;
    }

    /// <summary>Batches the background producer may hold ready: enough to hide a slow read, few
    /// enough that their token ids stay small beside one batch's activations.</summary>
    public const int PrefetchBatches = 4;

    /// <summary>Where the time of <see cref="Fit"/> went, written beside the metrics.</summary>
    public const string TimingsFile = "timings.json";

    /// <summary>Where this trainer's time went (data and transformer included when it ran them).</summary>
    public TrainTimings Timings { get; } = new();

    /// <summary>
    /// This rank's coder inputs for <paramref name="batch"/>: one transformer forward in inference
    /// mode (no autograd bookkeeping at all, not even version counters), then one copy out of it,
    /// since inference tensors cannot be saved for the coder's backward. // [L, B, T, D]
    /// </summary>
    public Tensor Inputs(TokenBatch batch) => Timings.Time("transformer", () =>
    {
        using var scope = NewDisposeScope();
        Tensor hidden;
        using (inference_mode()) hidden = stream.Forward(stream.Tokens(batch.Sequences));
        return hidden.clone().MoveToOuterDisposeScope();
    });

    /// <summary>
    /// Starts (or, with <paramref name="resume"/>, continues from the saved state) a run that the
    /// caller feeds batch by batch: <see cref="Fit"/> does so from its own stream; a sweep feeds
    /// every member the same batches and the same transformer output.
    /// </summary>
    public TrainingSession Begin(IReadOnlyList<TokenBatch> validation, bool resume, DataPosition? start, Action<TrainProgress>? progress = null)
    {
        var adam = new AdamOptimizer(sae.Parameters, options.Optimizer.Lr);
        try
        {
            var aggregate = new StepAggregate();
            var state = resume ? TrainingState.Load(runDir, sae, adam, aggregate) : new TrainingState(0, 0, 0, 0) { Position = start };
            TruncateMetrics(state.Step);
            return new TrainingSession(this, adam, aggregate, state, validation, progress);
        }
        catch
        {
            adam.Dispose();
            throw;
        }
    }

    /// <summary>A run in progress: its optimizer, logging window and state, fed one batch at a time.</summary>
    public sealed class TrainingSession : IDisposable
    {
        readonly MlsaeTrainer trainer;
        readonly AdamOptimizer adam;
        readonly StepAggregate aggregate;
        readonly IReadOnlyList<TokenBatch> validation;
        readonly Action<TrainProgress>? progress;
        readonly Stopwatch clock = Stopwatch.StartNew();
        int accumulated;   // states are saved at optimizer steps, so a resume starts a fresh accumulation
        List<(int Slot, BatchMetrics Metrics)> own = [];   // this rank's micro-batches of the step

        internal TrainingSession(MlsaeTrainer trainer, AdamOptimizer adam, StepAggregate aggregate, TrainingState state,
            IReadOnlyList<TokenBatch> validation, Action<TrainProgress>? progress)
        {
            (this.trainer, this.adam, this.aggregate, State, this.validation, this.progress) = (trainer, adam, aggregate, state, validation, progress);
            StartTokens = state.Tokens;
        }

        /// <summary>The tokens consumed before this session began (a resumed run's).</summary>
        public long StartTokens { get; }

        /// <summary>Where the run stands: optimizer steps, batches, sequences and tokens consumed, and the data position.</summary>
        public TrainingState State { get; private set; }
        /// <summary>Whether the run has consumed its <see cref="TrainOptions.TotalBatches"/>.</summary>
        public bool Finished => State.Batches >= trainer.options.TotalBatches;
        /// <summary>Whether this rank trains on the next batch (otherwise <see cref="Consume"/> needs no inputs).</summary>
        public bool TakesNext => trainer.parallel.Takes(State.Batches);

        /// <summary>
        /// Consumes the next batch of the stream: trains on <paramref name="inputs"/> (its residual stream,
        /// // [L, B, T, D]) when it is this rank's, and steps the optimizer at the end of an accumulation.
        /// </summary>
        public void Consume(TokenBatch batch, Tensor? inputs)
        {
            if (Finished) throw new InvalidOperationException("the run has consumed all its batches");
            if (TakesNext) own.Add((accumulated, trainer.TrainBatch(batch, inputs ?? throw new ArgumentNullException(nameof(inputs), "this rank's batch needs its inputs"),
                State.Batches == 0, State.Step)));
            if (State.Batches == 0) trainer.BroadcastParameters();   // the first micro-batch (rank 0's) initialized them
            State = State with { Batches = State.Batches + 1, Sequences = State.Sequences + batch.Size, Tokens = State.Tokens + batch.Tokens, Position = batch.Next };
            if (++accumulated < trainer.options.Optimizer.AccumulateGradBatches && !Finished) return;
            State = trainer.Step(adam, State, aggregate, StepBatches(), validation, clock, progress);
        }

        /// <summary>Every rank's micro-batch metrics of the step in stream order; starts the next step.</summary>
        IReadOnlyList<BatchMetrics> StepBatches()
        {
            var all = BatchMetricsExchange.AllInOrder(trainer.parallel, own, accumulated);
            (accumulated, own) = (0, []);
            return all;
        }

        /// <summary>Steps on a final partial accumulation (the data ended mid-step), writes the last
        /// checkpoint, and returns the final state. Fails when no batch was ever consumed.</summary>
        public TrainingState End()
        {
            if (accumulated > 0) State = trainer.Step(adam, State, aggregate, StepBatches(), validation, clock, progress);
            if (State.Batches == 0) throw new MlsaeException("--data: no training batches (the data holds no full sequence after the validation part)");
            trainer.Checkpoint(State, adam, aggregate);
            return State;
        }

        /// <inheritdoc />
        public void Dispose() => adam.Dispose();
    }

    BatchMetrics TrainBatch(TokenBatch batch, Tensor inputs, bool first, long step)
    {
        using var scope = NewDisposeScope();
        if (first) sae.InitializeFromFirstBatch(inputs);
        var (output, loss) = Timings.Time("sae_forward", () =>
        {
            var output = sae.Forward(inputs, training: true);
            return (output, sae.Loss(inputs, output));
        });
        using var _output = output;
        using var _loss = loss;
        double totalValue = loss.Total.item<float>();
        if (!double.IsFinite(totalValue)) throw Diverged(totalValue, step, inputs);
        Timings.Time("backward", () =>
        {
            (loss.Total / options.Optimizer.AccumulateGradBatches).backward();
            sae.AfterBackward();
        });
        using var _ = no_grad();
        // The reference's DeadLatents in training_step: this batch's selections against its B·T tokens.
        var selections = SparsityMetrics.Selections(output.TopK.Indices, sae.NLatents);
        return new BatchMetrics(totalValue, loss.FvuMean.item<float>(), loss.AuxK.item<float>(), ToArray(loss.Fvu),
            ToArray(SparsityMetrics.L0(output.TopK.Values, sae.DeadThreshold)), ToArray(SparsityMetrics.L1(output.TopK.Values)),
            ToArray(Fvu.LayerMse(inputs, output.Recons)), output.Dead.item<float>(),
            SparsityMetrics.DeadFraction(selections, batch.Tokens, options.Autoencoder.DeadTokensThreshold));
    }

    /// <summary>What a non-finite loss means: the model's activations were already non-finite (its
    /// weights or the input, not the learning rate), or the coder diverged; and what is kept.</summary>
    TrainingDivergedException Diverged(double loss, long step, Tensor inputs)
    {
        bool inputsFinite = inputs.isfinite().all().item<bool>();
        var cause = inputsFinite
            ? "the autoencoder diverged (lower --lr?)"
            : $"the model's residual stream already holds non-finite values (non-finite weights or activations in {options.Model.Name}), so no learning rate can help";
        var kept = File.Exists(TrainingState.PathIn(runDir))
            ? $"{runDir} keeps the last good checkpoint"
            : $"no checkpoint was written yet (the first comes at step {options.Runtime.CheckpointEvery})";
        return new TrainingDivergedException($"the loss became {loss} at step {step + 1}: {cause}; training stopped, and {kept}");
    }

    void BroadcastParameters()
    {
        using var _ = no_grad();
        foreach (var p in sae.Parameters) parallel.Broadcast(p);
    }

    /// <summary>Sums the step's gradients and dead-latent tally over the ranks (a no-op in one process).</summary>
    void SumOverRanks()
    {
        if (parallel.Size == 1) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // Every rank sends every parameter's gradient: one that ran no backward this step holds
        // none (ZeroGrad drops them) and sends zeros.
        foreach (var p in sae.Parameters)
        {
            p.grad ??= zeros_like(p);
            using var grad = p.grad;
            parallel.SumInPlace(grad);
        }
        if (sae.StepTally is { } tally) parallel.SumInPlace(tally);
    }

    static double[] ToArray(Tensor t) => t.detach().to(ScalarType.Float64).cpu().data<double>().ToArray();

    /// <summary>Runs after every optimizer step with the step's number, on every rank (e.g. to check
    /// that the replicas still agree).</summary>
    public Action<long>? StepTaken { get; init; }

    /// <summary>One optimizer step; <paramref name="batches"/> are the step's micro-batch metrics from
    /// every rank, in stream order.</summary>
    TrainingState Step(AdamOptimizer adam, TrainingState state, StepAggregate aggregate, IReadOnlyList<BatchMetrics> batches, IReadOnlyList<TokenBatch> validation,
        Stopwatch clock, Action<TrainProgress>? progress)
    {
        foreach (var m in batches) aggregate.Add(m);
        Timings.Time("update", () =>
        {
            SumOverRanks();
            adam.StepCoder(sae);
        });
        state = state with { Step = state.Step + 1 };
        StepTaken?.Invoke(state.Step);
        progress?.Invoke(new TrainProgress(state.Step, options.TotalSteps, state.Tokens, options.TotalBatches * options.TokensPerBatch,
            aggregate.Empty ? double.NaN : aggregate.Loss, aggregate.Empty ? double.NaN : aggregate.FvuMean, aggregate.Dead));
        if (state.Step % options.Runtime.LogEvery == 0 && !aggregate.Empty)
        {
            if (parallel.Writes()) AppendMetrics(aggregate.ToJson(state.Step, state.Tokens, clock.Elapsed.TotalSeconds, stream.Layers).ToJsonString());
            aggregate.Reset();
        }
        if (options.Runtime.ValEvery > 0 && state.Step % options.Runtime.ValEvery == 0 && validation.Count > 0)
        {
            var val = Timings.Time("validation", () => ValidateDuringTraining(validation));
            LastValidation = (state.Step, val);
            if (parallel.Writes()) AppendMetrics(new System.Text.Json.Nodes.JsonObject { ["step"] = state.Step, ["tokens"] = state.Tokens, ["val"] = val.ToJson() }.ToJsonString());
        }
        if (state.Step % options.Runtime.CheckpointEvery == 0) Timings.Time("checkpoint", () => Checkpoint(state, adam, aggregate));
        return state;
    }

    /// <summary>The last validation during <see cref="Fit"/> and the step it was made at (the coder is
    /// unchanged until the next optimizer step, so it stands for a validation at that step).</summary>
    public (long Step, EvalResult Result)? LastValidation { get; private set; }

    /// <summary>A validation inside <see cref="Fit"/>. Under <c>--reference-quirks</c> its forward calls
    /// advance the dead-latent counters, as the reference's Lightning module advances <c>last_nonzero</c>
    /// on every forward call, validation steps included (so a quirks run's dead latents, and hence its
    /// AuxK, match the reference's); in the consistent mode validation never counts.</summary>
    EvalResult ValidateDuringTraining(IReadOnlyList<TokenBatch> validation) =>
        MlsaeEvaluator.Run(stream, sae, validation.Select(b => b.Sequences), downstream: true, options.Autoencoder.DeadTokensThreshold,
            advanceDeadLatents: sae.Settings.ReferenceQuirks);

    /// <summary>Metrics on the validation batches, downstream ones included; the training state is
    /// untouched. <paramref name="observe"/> sees each batch's coder output (one pass serves the analyses too).</summary>
    public EvalResult Validate(IReadOnlyList<TokenBatch> validation, Action<long>? progress = null, Action<SparseCoderOutput>? observe = null) =>
        MlsaeEvaluator.Run(stream, sae, validation.Select(b => b.Sequences), downstream: true, options.Autoencoder.DeadTokensThreshold, progress: progress, observe: observe);

    void Checkpoint(TrainingState state, AdamOptimizer adam, StepAggregate aggregate)
    {
        if (!parallel.Writes()) return;
        sae.Save(runDir);
        state.Save(runDir, sae, adam, aggregate);
    }

    void AppendMetrics(string line) => File.AppendAllText(MetricsPath, line + "\n", new UTF8Encoding(false));

    /// <summary>Drops metrics lines written after <paramref name="step"/> (by a run that was killed
    /// after its last checkpoint), so a resumed run's file equals an uninterrupted one's.</summary>
    void TruncateMetrics(long step)
    {
        if (!File.Exists(MetricsPath) || !parallel.Writes()) return;
        var kept = File.ReadAllLines(MetricsPath).Where(line =>
        {
            try { return System.Text.Json.Nodes.JsonNode.Parse(line) is System.Text.Json.Nodes.JsonObject o && o["step"]?.GetValue<long>() <= step; }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException) { return false; }   // a line cut by the kill, or edited
        }).ToList();
        AtomicFile.WriteText(MetricsPath, kept.Count == 0 ? "" : string.Join("\n", kept) + "\n");
    }
}

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
        using var adam = new AdamOptimizer(sae.Parameters, options.Optimizer.Lr);
        var aggregate = new StepAggregate();
        var state = resume ? TrainingState.Load(runDir, sae, adam, aggregate) : new TrainingState(0, 0, 0, 0) { Position = start };
        TruncateMetrics(state.Step);
        var clock = Stopwatch.StartNew();
        var stream = resume && state.Position is null ? batches(start).Skip(checked((int)state.Batches)) : batches(state.Position);
        int accumulated = 0;   // states are saved at optimizer steps, so a resume starts a fresh accumulation
        var own = new List<(int Slot, BatchMetrics Metrics)>();   // this rank's micro-batches of the step
        foreach (var batch in stream)
        {
            if (state.Batches >= options.TotalBatches) break;
            if (parallel.Takes(state.Batches)) own.Add((accumulated, TrainBatch(batch, state.Batches == 0, state.Step)));
            if (state.Batches == 0) BroadcastParameters();   // the first micro-batch (rank 0's) initialized them
            state = state with { Batches = state.Batches + 1, Sequences = state.Sequences + batch.Size, Tokens = state.Tokens + batch.Tokens, Position = batch.Next };
            if (++accumulated < options.Optimizer.AccumulateGradBatches && state.Batches < options.TotalBatches) continue;
            state = Step(adam, state, aggregate, BatchMetricsExchange.AllInOrder(parallel, own, accumulated), validation, clock, progress);
            (accumulated, own) = (0, []);
        }
        if (accumulated > 0) state = Step(adam, state, aggregate, BatchMetricsExchange.AllInOrder(parallel, own, accumulated), validation, clock, progress);   // the data ended mid-accumulation
        if (state.Batches == 0) throw new MlsaeException("--data: no training batches (the data holds no full sequence after the validation part)");
        Checkpoint(state, adam, aggregate);
        return state;
    }

    BatchMetrics TrainBatch(TokenBatch batch, bool first, long step)
    {
        using var scope = NewDisposeScope();
        var inputs = stream.Forward(stream.Tokens(batch.Sequences));               // [L, B, T, D]
        if (first) sae.InitializeFromFirstBatch(inputs);
        using var output = sae.Forward(inputs, training: true);
        using var loss = sae.Loss(inputs, output);
        double totalValue = loss.Total.item<float>();
        if (!double.IsFinite(totalValue)) throw Diverged(totalValue, step, inputs);
        (loss.Total / options.Optimizer.AccumulateGradBatches).backward();
        sae.AfterBackward();
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
        foreach (var p in sae.Parameters)
            if (p.grad is { } grad) parallel.SumInPlace(grad);
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
        SumOverRanks();
        sae.BeforeStep();
        adam.StepOnce();
        sae.AfterStep();
        adam.ZeroGrad();
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
            var val = ValidateDuringTraining(validation);
            LastValidation = (state.Step, val);
            if (parallel.Writes()) AppendMetrics(new System.Text.Json.Nodes.JsonObject { ["step"] = state.Step, ["tokens"] = state.Tokens, ["val"] = val.ToJson() }.ToJsonString());
        }
        if (state.Step % options.Runtime.CheckpointEvery == 0) Checkpoint(state, adam, aggregate);
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

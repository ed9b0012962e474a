using Mlsae.Activations.Cache;
using Mlsae.Coders;
using Mlsae.Data;
using Mlsae.Distributed;
using Mlsae.Evaluation;
using Mlsae.Hub;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Training;

namespace Mlsae.Runs;

/// <summary>What a training run ended with.</summary>
/// <param name="State">Where training stopped (steps, batches, tokens, data position).</param>
/// <param name="Eval">The validation metrics written to eval.json, or null without validation batches.</param>
/// <param name="DataRanOut">Whether the data ended before <see cref="OptimizerOptions.MaxTokens"/>.</param>
public sealed record TrainOutcome(TrainingState State, EvalResult? Eval, bool DataRanOut);

/// <summary>
/// Runs a whole training experiment in a run folder: the training stream and its held-out
/// validation batches from one batch source, the sparse coder of the run's kind, the trainer (resumable), then eval.json,
/// summary.md and the analyses of <see cref="RunAnalyses"/>. The CLI parses options into a
/// <see cref="TrainOptions"/> and calls this; a server or a library user calls the same.
/// </summary>
public sealed class RunTrainer(Run run, ModelSession model, Func<HubClient> hub, IRunObserver observer, IDataParallel? parallel = null)
{
    readonly IDataParallel parallel = parallel ?? SingleProcess.Instance;

    /// <summary>Under several ranks, compare a checksum of the parameters over the ranks after every
    /// step (not only at checkpoints) and print it.</summary>
    public bool CheckReplicas { get; init; }

    /// <summary>
    /// The options a new run records once its model is loaded: the layers it reads (all when none
    /// were given) and the reference's <c>min(model_max_length, max_length)</c>.
    /// </summary>
    public static TrainOptions Resolve(TrainOptions options, ModelSession model, IRunObserver observer)
    {
        options = options with { Model = options.Model with { Layers = model.Layers } };
        if (model.HasTokenizer && SequenceStream.EffectiveMaxLength(model.Tokenizer, options.Data.MaxLength) is int effective && effective < options.Data.MaxLength)
        {
            observer.Notice($"--max-length: {options.Data.MaxLength} exceeds the tokenizer's model_max_length; using {effective}, as the reference does");
            options = options with { Data = options.Data with { MaxLength = effective } };
        }
        return options;
    }

    /// <summary>Trains (continuing the saved state when <paramref name="resume"/>), validates and analyses.</summary>
    public TrainOutcome Train(bool resume)
    {
        using var prepared = Prepare(resume, parallel);
        var options = run.Options;
        TrainProgress? last = null;
        var final = observer.Progress("train", options.TotalBatches * options.TokensPerBatch, "tokens",
            done => prepared.Trainer.Fit(prepared.Training.Batches, prepared.Start, prepared.Validation, resume, p => { last = p; done(p.Tokens); }),
            () => last is null ? "" : $"step {last.Step}/{last.TotalSteps} loss {EvalSummary.Format(last.Loss)} fvu {EvalSummary.Format(last.Fvu)} dead {EvalSummary.Format(last.DeadFraction)}");
        observer.Notice($"time: {prepared.Trainer.Timings.Summary()} ({MlsaeTrainer.TimingsFile})");
        return Finish(prepared, final);
    }

    /// <summary>A run ready to train: its streams, its coder and its trainer (which a sweep drives
    /// together with the other members' on one transformer pass per batch).</summary>
    public sealed record Prepared(BatchSource Training, DataPosition? Start, IReadOnlyList<TokenBatch> Validation, ISparseCoder Sae, MlsaeTrainer Trainer) : IDisposable
    {
        /// <inheritdoc />
        public void Dispose() => Sae.Dispose();
    }

    /// <summary>Opens the streams and builds the coder and its trainer, announcing the run in one line.</summary>
    public Prepared Prepare(bool resume, IDataParallel? parallel = null)
    {
        var options = run.Options;
        if (resume && !run.HasState) throw new MlsaeException($"--resume: {TrainingState.PathIn(run.Folder)} not found (the run has no checkpoint yet)");
        var (training, start, validation) = Streams(options);
        parallel ??= SingleProcess.Instance;
        RankAgreement.Require(parallel, RankAgreement.Fingerprint(options, validation), "the flags, the mlsae build or the data (run options and validation batches)");
        int dModel = model.Model.Config.HiddenSize;
        SparseCoderFactory.CheckMemory(options, dModel, model.Layers.Length);
        var sae = SparseCoderFactory.Create(options, dModel, model.Layers, model.Model.Device);
        try
        {
            var trainer = new MlsaeTrainer(options, model.Stream, sae, run.Folder, parallel) { StepTaken = ReplicaCheck(sae, options, parallel) };
            observer.Notice($"train: {model.Name}, layers [{string.Join(", ", model.Layers)}], {options.Autoencoder.Kind}, {sae.NLatents} latents (x{options.Autoencoder.ExpansionFactor}), k {sae.K}, "
                + $"{options.TotalSteps} steps of {options.TokensPerBatch * options.Optimizer.AccumulateGradBatches:N0} tokens{(resume ? ", resuming" : "")}");
            return new Prepared(training, start, validation, sae, trainer);
        }
        catch
        {
            sae.Dispose();
            throw;
        }
    }

    /// <summary>After training: eval.json and summary.md from the held-out validation batches, and the analyses.</summary>
    public TrainOutcome Finish(Prepared prepared, TrainingState final)
    {
        var options = run.Options;
        var (sae, validation, trainer) = (prepared.Sae, prepared.Validation, prepared.Trainer);
        bool ranOut = final.Batches < options.TotalBatches;
        if (ranOut) observer.Notice($"note: the data ran out after {final.Tokens:N0} tokens ({prepared.Training.Report.Summary()})");
        if (!parallel.Writes()) return new TrainOutcome(final, null, ranOut);   // rank 0 validates and writes the results
        if (validation.Count == 0) return new TrainOutcome(final, null, ranOut);
        var analyses = new RunAnalyses(model.Layers.Length, sae, validation);
        EvalResult result;
        if (trainer.LastValidation is { } validated && validated.Step == final.Step)
        {
            result = validated.Result;        // validated at this very step already: only the codes are needed again
            analyses.Encode(model, sae);
        }
        else result = trainer.Validate(validation, observe: analyses.Observe);
        result.Save(run.PathOf(Run.EvalFile));
        AtomicFile.WriteText(run.PathOf(Run.SummaryFile), EvalSummary.Markdown($"{SparseCoderFactory.Title(options.Autoencoder.Kind)} on {options.Model.Name}", result,
        [
            $"layers [{string.Join(", ", model.Layers)}], {sae.NLatents} latents (expansion x{options.Autoencoder.ExpansionFactor}), k {sae.K}, auxk {sae.AuxK?.ToString() ?? "off"}",
            SparseCoderFactory.Describe(sae, model.Layers.Length),
            $"{final.Step} optimizer steps, {final.Tokens:N0} training tokens, lr {options.Optimizer.Lr}, seed {options.Autoencoder.Seed}{(options.Autoencoder.ReferenceQuirks ? ", reference quirks" : "")}",
            $"data {options.Data.Source}, max_length {options.Data.MaxLength}; validation {(options.Data.ValData ?? "held out from the start of the training stream")}",
            .. options.Autoencoder.TunedLens is { } lens
                ? new[] { $"tuned lens {lens}: FVU, MSE, L0 and L1 are in lens space; ΔCE, KL and logit MSE splice the inverted reconstruction into the model" }
                : [],
        ]));
        analyses.Write(run, model, sae, observer);
        return new TrainOutcome(final, result, ranOut);
    }

    /// <summary>Under several ranks, after every step (<see cref="CheckReplicas"/>) or every checkpoint: the
    /// parameters must be bit-identical on every rank, or the run stops naming the ranks that drifted.</summary>
    Action<long>? ReplicaCheck(ISparseCoder sae, TrainOptions options, IDataParallel ranks)
    {
        if (ranks.Size == 1) return null;
        return step =>
        {
            if (!CheckReplicas && step % options.Runtime.CheckpointEvery != 0) return;
            ulong checksum = RankAgreement.Checksum(sae.Parameters);
            RankAgreement.Require(ranks, checksum, $"the parameters after step {step} (the replicas drifted apart)");
            if (CheckReplicas) observer.Notice($"replicas: step {step}, parameters identical on all {ranks.Size} ranks (xxhash64 {checksum:x16})");
        };
    }

    /// <summary>The training batches, where training starts, and the validation batches (held out
    /// from the start of the training stream unless a validation source is given).</summary>
    (BatchSource Training, DataPosition? Start, IReadOnlyList<TokenBatch> Validation) Streams(TrainOptions options)
    {
        var documents = new DocumentOptions(options.Data.TextField, options.Data.SkipBadLines, options.Data.MaxDocumentBytes);
        BatchSource Open(string data, string split, Shard shard) => new(new DataSource(data, split, options.Data.Revision), documents,
            options.Data.MaxLength, options.Data.BatchSize, shard, () => model.Tokenizer, hub);
        var training = options.Data.Activations is { } cached
            ? ActivationCache.AttachedTo(model, cached).Source(options.Data.BatchSize, Shard.Parse(options.Data.Shard), () => model.Tokenizer)
            : Open(options.Data.Source, options.Data.Split, Shard.Parse(options.Data.Shard));
        if (options.Data.ValData is not null)
            return (training, null, Open(options.Data.ValData, options.Data.Split == "train" ? "validation" : options.Data.Split, Shard.All).Batches().Take(options.Data.ValBatches).ToList());
        var validation = training.Batches().Take(options.Data.ValBatches).ToList();
        return (training, validation.Count > 0 ? validation[^1].Next : null, validation);
    }
}

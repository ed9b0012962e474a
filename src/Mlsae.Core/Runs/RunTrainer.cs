using Mlsae.Autoencoder;
using Mlsae.Data;
using Mlsae.Evaluation;
using Mlsae.Hub;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Training;

namespace Mlsae.Runs;

/// <summary>What a training run ended with.</summary>
/// <param name="State">Where training stopped (steps, batches, tokens, data position).</param>
/// <param name="Eval">The validation metrics written to eval.json, or null without validation batches.</param>
/// <param name="DataRanOut">Whether the data ended before <see cref="TrainOptions.MaxTokens"/>.</param>
public sealed record TrainOutcome(TrainingState State, EvalResult? Eval, bool DataRanOut);

/// <summary>
/// Runs a whole training experiment in a run folder: the training stream and its held-out
/// validation batches from one batch source, the MLSAE, the trainer (resumable), then eval.json,
/// summary.md and the analyses of <see cref="RunAnalyses"/>. The CLI parses options into a
/// <see cref="TrainOptions"/> and calls this; a server or a library user calls the same.
/// </summary>
public sealed class RunTrainer(Run run, ModelSession model, Func<HubClient> hub, IRunObserver observer)
{
    /// <summary>
    /// The options a new run records once its model is loaded: the layers it reads (all when none
    /// were given) and the reference's <c>min(model_max_length, max_length)</c>.
    /// </summary>
    public static TrainOptions Resolve(TrainOptions options, ModelSession model, IRunObserver observer)
    {
        options = options with { Layers = model.Layers };
        if (model.HasTokenizer && SequenceStream.EffectiveMaxLength(model.Tokenizer, options.MaxLength) is int effective && effective < options.MaxLength)
        {
            observer.Notice($"--max-length: {options.MaxLength} exceeds the tokenizer's model_max_length; using {effective}, as the reference does");
            options = options with { MaxLength = effective };
        }
        return options;
    }

    /// <summary>Trains (continuing the saved state when <paramref name="resume"/>), validates and analyses.</summary>
    public TrainOutcome Train(bool resume)
    {
        var options = run.Options;
        if (resume && !run.HasState) throw new MlsaeException($"--resume: {TrainingState.PathIn(run.Folder)} not found (the run has no checkpoint yet)");
        var (training, start, validation) = Streams(options);
        var config = new MlsaeConfig
        {
            NInputs = model.Model.Config.HiddenSize, NLatents = model.Model.Config.HiddenSize * options.ExpansionFactor, K = options.K,
            AuxK = options.AuxK, DeadStepsThreshold = options.DeadStepsThreshold, DeadThreshold = options.DeadThreshold, Standardize = options.Standardize,
        }.Validate("--expansion-factor/-k/--auxk");
        var rule = options.ReferenceQuirks
            ? DeadLatentRule.Reference(options.DeadTokensThreshold, options.BatchSize, options.MaxLength, options.AccumulateGradBatches)
            : new DeadLatentRule(true, options.DeadTokensThreshold);
        using var sae = MlsaeAutoencoder.Create(config, rule, options.Seed, model.Model.Device);
        sae.ReferenceQuirks = options.ReferenceQuirks;
        sae.ComputeDType = model.Model.DType;
        var trainer = new MlsaeTrainer(options, model.Stream, sae, run.Folder);
        observer.Notice($"train: {model.Name}, layers [{string.Join(", ", model.Layers)}], {config.NLatents} latents (x{options.ExpansionFactor}), k {config.K}, "
            + $"{options.TotalSteps} steps of {options.TokensPerBatch * options.AccumulateGradBatches:N0} tokens{(resume ? ", resuming" : "")}");
        TrainProgress? last = null;
        var final = observer.Progress("train", options.TotalBatches * options.TokensPerBatch, "tokens",
            done => trainer.Fit(training.Batches, start, validation, resume, p => { last = p; done(p.Tokens); }),
            () => last is null ? "" : $"step {last.Step}/{last.TotalSteps} loss {EvalSummary.Format(last.Loss)} fvu {EvalSummary.Format(last.Fvu)} dead {EvalSummary.Format(last.DeadFraction)}");
        bool ranOut = final.Batches < options.TotalBatches;
        if (ranOut) observer.Notice($"note: the data ran out after {final.Tokens:N0} tokens ({training.Report.Summary()})");
        if (validation.Count == 0) return new TrainOutcome(final, null, ranOut);
        var result = trainer.Validate(validation);
        result.Save(run.PathOf(Run.EvalFile));
        AtomicFile.WriteText(run.PathOf(Run.SummaryFile), EvalSummary.Markdown($"MLSAE on {options.Model}", result,
        [
            $"layers [{string.Join(", ", model.Layers)}], {config.NLatents} latents (expansion x{options.ExpansionFactor}), k {config.K}, auxk {config.AuxK?.ToString() ?? "off"}",
            $"{final.Step} optimizer steps, {final.Tokens:N0} training tokens, lr {options.Lr}, seed {options.Seed}{(options.ReferenceQuirks ? ", reference quirks" : "")}",
            $"data {options.Data}, max_length {options.MaxLength}; validation {(options.ValData ?? "held out from the start of the training stream")}",
        ]));
        RunAnalyses.Write(run, model, sae, validation, observer);
        return new TrainOutcome(final, result, ranOut);
    }

    /// <summary>The training batches, where training starts, and the validation batches (held out
    /// from the start of the training stream unless a validation source is given).</summary>
    (BatchSource Training, DataPosition? Start, IReadOnlyList<TokenBatch> Validation) Streams(TrainOptions options)
    {
        var documents = new DocumentOptions(options.TextField, options.SkipBadLines);
        BatchSource Open(string data, string split, Shard shard) => new(new DataSource(data, split, options.DataRevision), documents,
            options.MaxLength, options.BatchSize, shard, () => model.Tokenizer, hub);
        var training = Open(options.Data, options.Split, Shard.Parse(options.Shard));
        if (options.ValData is not null)
            return (training, null, Open(options.ValData, options.Split == "train" ? "validation" : options.Split, Shard.All).Batches().Take(options.ValBatches).ToList());
        var validation = training.Batches().Take(options.ValBatches).ToList();
        return (training, validation.Count > 0 ? validation[^1].Next : null, validation);
    }
}

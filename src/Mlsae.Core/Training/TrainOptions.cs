using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlsae.Training;

/// <summary>
/// Every argument of a training run, in five groups (model, data, autoencoder, optimizer, runtime),
/// saved as the run folder's <c>run.json</c>: one flat object whose keys follow the reference's
/// <c>MLSAEConfig</c>, <c>DataConfig</c> and trainer (<see cref="TrainOptionsJson"/> flattens the
/// groups), with a <c>format_version</c>. Folders written before the version existed read as version 1.
/// </summary>
[JsonConverter(typeof(TrainOptionsJson))]
public sealed record TrainOptions
{
    /// <summary>The <c>format_version</c> this code writes.</summary>
    public const int CurrentFormatVersion = 2;

    /// <summary>The <c>format_version</c> of the run.json read (1: written before the key existed).</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;
    /// <summary>The language model and what is read of it.</summary>
    public required ModelOptions Model { get; init; }
    /// <summary>The training and validation data.</summary>
    public required TrainDataOptions Data { get; init; }
    /// <summary>The sparse coder's architecture and training rules.</summary>
    public AutoencoderOptions Autoencoder { get; init; } = new();
    /// <summary>Optimizer and budget.</summary>
    public OptimizerOptions Optimizer { get; init; } = new();
    /// <summary>Where and how the run executes and what it writes when.</summary>
    public RuntimeOptions Runtime { get; init; } = new();

    /// <summary>Tokens per batch.</summary>
    public long TokensPerBatch => (long)Data.BatchSize * Data.MaxLength;
    /// <summary>Batches to train on.</summary>
    public long TotalBatches => (Optimizer.MaxTokens + TokensPerBatch - 1) / TokensPerBatch;
    /// <summary>Optimizer steps (a final partial accumulation also steps).</summary>
    public long TotalSteps => (TotalBatches + Optimizer.AccumulateGradBatches - 1) / Optimizer.AccumulateGradBatches;
    /// <summary>The reference's dead_steps_threshold: dead_tokens_threshold // tokens per optimizer step.</summary>
    public long DeadStepsThreshold => Autoencoder.DeadTokensThreshold / (TokensPerBatch * Optimizer.AccumulateGradBatches);

    /// <summary>Fails with a message naming the bad flag.</summary>
    public TrainOptions Validate()
    {
        Data.Validate();
        Autoencoder.Validate();
        Optimizer.Validate();
        Runtime.Validate();
        if (FormatVersion > CurrentFormatVersion)
            throw new MlsaeException($"run.json: format_version {FormatVersion} was written by a newer mlsae (this one reads up to {CurrentFormatVersion})");
        // The reference's derived threshold overflows nothing, but a budget that does would print a negative step count.
        if (Optimizer.MaxTokens > long.MaxValue - TokensPerBatch)
            throw new MlsaeException($"--max-tokens: {Optimizer.MaxTokens} is too large");
        return this;
    }

    /// <summary>The <c>run.json</c> text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, TrainOptionsJson.Indented);

    /// <summary>Reads a <c>run.json</c>.</summary>
    public static TrainOptions Load(string path)
    {
        try { return JsonSerializer.Deserialize<TrainOptions>(File.ReadAllText(path), TrainOptionsJson.Indented) ?? throw new MlsaeException($"{path}: empty"); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: not a valid run.json", e); }
    }
}

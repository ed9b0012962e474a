using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlsae.Training;

/// <summary>
/// Every argument of a training run, saved as the run folder's <c>run.json</c>. Names and
/// defaults follow the reference's <c>MLSAEConfig</c>, <c>DataConfig</c> and trainer.
/// </summary>
public sealed record TrainOptions
{
    /// <summary>Local model folder or hub id.</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>Hub revision of the model.</summary>
    [JsonPropertyName("revision")] public string Revision { get; init; } = "main";
    /// <summary>Model layer indices trained on (any subset, any order); null means all.</summary>
    [JsonPropertyName("layers")] public int[]? Layers { get; init; }
    /// <summary>Training data source.</summary>
    [JsonPropertyName("data")] public required string Data { get; init; }
    /// <summary>Hub dataset split.</summary>
    [JsonPropertyName("split")] public string Split { get; init; } = "train";
    /// <summary>Hub dataset revision.</summary>
    [JsonPropertyName("data_revision")] public string DataRevision { get; init; } = "main";
    /// <summary>JSON field / Parquet column of the text.</summary>
    [JsonPropertyName("text_field")] public string TextField { get; init; } = "text";
    /// <summary>Skip malformed records instead of failing.</summary>
    [JsonPropertyName("skip_bad_lines")] public bool SkipBadLines { get; init; }
    /// <summary>"i/n": train on the i-th of n disjoint parts of the data only (sequence j in part j mod n); null for all of it.</summary>
    [JsonPropertyName("shard")] public string? Shard { get; init; }
    /// <summary>Validation data; null holds out the first <see cref="ValBatches"/> batches of the training stream.</summary>
    [JsonPropertyName("val_data")] public string? ValData { get; init; }
    /// <summary>Batches per validation.</summary>
    [JsonPropertyName("val_batches")] public int ValBatches { get; init; } = 4;
    /// <summary>Tokens per sequence.</summary>
    [JsonPropertyName("max_length")] public int MaxLength { get; init; } = 2048;
    /// <summary>Sequences per batch.</summary>
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 1;
    /// <summary>Batches per optimizer step.</summary>
    [JsonPropertyName("accumulate_grad_batches")] public int AccumulateGradBatches { get; init; } = 64;
    /// <summary>Tokens to train on (batches = ceil(max_tokens / (batch_size · max_length))).</summary>
    [JsonPropertyName("max_tokens")] public long MaxTokens { get; init; } = 1_000_000_000;
    /// <summary>Latents per input dimension.</summary>
    [JsonPropertyName("expansion_factor")] public int ExpansionFactor { get; init; } = 16;
    /// <summary>Latents kept per vector.</summary>
    [JsonPropertyName("k")] public int K { get; init; } = 32;
    /// <summary>Dead latents in the AuxK loss; null disables it.</summary>
    [JsonPropertyName("auxk")] public int? AuxK { get; init; } = 256;
    /// <summary>AuxK loss coefficient.</summary>
    [JsonPropertyName("auxk_coef")] public double AuxKCoef { get; init; } = 1.0 / 32;
    /// <summary>Tokens without firing after which a latent is dead.</summary>
    [JsonPropertyName("dead_tokens_threshold")] public long DeadTokensThreshold { get; init; } = 10_000_000;
    /// <summary>Activation above which a latent fires.</summary>
    [JsonPropertyName("dead_threshold")] public double DeadThreshold { get; init; } = 1e-3;
    /// <summary>Adam learning rate.</summary>
    [JsonPropertyName("lr")] public double Lr { get; init; } = 1e-4;
    /// <summary>Standardize input vectors.</summary>
    [JsonPropertyName("standardize")] public bool Standardize { get; init; } = true;
    /// <summary>Zero the activations at special-token positions.</summary>
    [JsonPropertyName("skip_special_tokens")] public bool SkipSpecialTokens { get; init; } = true;
    /// <summary>Seed of the autoencoder's initialization.</summary>
    [JsonPropertyName("seed")] public long Seed { get; init; }
    /// <summary>cpu, cuda or cuda:N.</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";
    /// <summary>Compute dtype of the transformer forward and of the autoencoder's encoder matmul (explicit casting; parameters, decode and loss stay float32).</summary>
    [JsonPropertyName("dtype")] public string DType { get; init; } = "float32";
    /// <summary>Optimizer steps between metrics lines.</summary>
    [JsonPropertyName("log_every")] public int LogEvery { get; init; } = 1;
    /// <summary>Optimizer steps between validations (0: only at the end).</summary>
    [JsonPropertyName("val_every")] public int ValEvery { get; init; } = 50;
    /// <summary>Optimizer steps between resumable checkpoints.</summary>
    [JsonPropertyName("checkpoint_every")] public int CheckpointEvery { get; init; } = 10;
    /// <summary>Reproduce the reference's three inconsistencies exactly (AuxK space, dead-latent counting, bias init).</summary>
    [JsonPropertyName("reference_quirks")] public bool ReferenceQuirks { get; init; }

    /// <summary>Tokens per batch.</summary>
    [JsonIgnore] public long TokensPerBatch => (long)BatchSize * MaxLength;
    /// <summary>Batches to train on.</summary>
    [JsonIgnore] public long TotalBatches => (MaxTokens + TokensPerBatch - 1) / TokensPerBatch;
    /// <summary>Optimizer steps (a final partial accumulation also steps).</summary>
    [JsonIgnore] public long TotalSteps => (TotalBatches + AccumulateGradBatches - 1) / AccumulateGradBatches;
    /// <summary>The reference's dead_steps_threshold: dead_tokens_threshold // tokens per optimizer step.</summary>
    [JsonIgnore] public long DeadStepsThreshold => DeadTokensThreshold / (TokensPerBatch * AccumulateGradBatches);

    /// <summary>Fails with a message naming the bad flag.</summary>
    public TrainOptions Validate()
    {
        void Positive(long v, string flag) { if (v <= 0) throw new MlsaeException($"{flag} must be positive, got {v}"); }
        Positive(MaxLength, "--max-length");
        Positive(BatchSize, "--batch-size");
        Positive(AccumulateGradBatches, "--accumulate-grad-batches");
        Positive(MaxTokens, "--max-tokens");
        Positive(ExpansionFactor, "--expansion-factor");
        Positive(K, "-k");
        Positive(LogEvery, "--log-every");
        Positive(CheckpointEvery, "--checkpoint-every");
        Positive(DeadTokensThreshold, "--dead-tokens-threshold");
        if (AuxK is int a) Positive(a, "--auxk");
        if (ValEvery < 0) throw new MlsaeException($"--val-every must not be negative, got {ValEvery}");
        if (ValBatches < 0) throw new MlsaeException($"--val-batches must not be negative, got {ValBatches}");
        if (!(Lr > 0) || !double.IsFinite(Lr)) throw new MlsaeException($"--lr must be a positive number, got {Lr}");
        if (!(AuxKCoef >= 0) || !double.IsFinite(AuxKCoef)) throw new MlsaeException($"--auxk-coef must be a non-negative number, got {AuxKCoef}");
        return this;
    }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <summary>The <c>run.json</c> text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a <c>run.json</c>.</summary>
    public static TrainOptions Load(string path)
    {
        try { return JsonSerializer.Deserialize<TrainOptions>(File.ReadAllText(path), Json) ?? throw new MlsaeException($"{path}: empty"); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: not a valid run.json", e); }
    }
}

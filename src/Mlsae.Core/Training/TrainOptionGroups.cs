using System.Text.Json.Serialization;

namespace Mlsae.Training;

/// <summary>The language model of a run and what is read of it.</summary>
public sealed record ModelOptions
{
    /// <summary>Local model folder, hub id, or <c>embedded</c>.</summary>
    [JsonPropertyName("model")] public required string Name { get; init; }
    /// <summary>Hub revision of the model.</summary>
    [JsonPropertyName("revision")] public string Revision { get; init; } = "main";
    /// <summary>Model layer indices trained on (any subset, any order); null means all.</summary>
    [JsonPropertyName("layers")] public int[]? Layers { get; init; }
    /// <summary>Zero the activations at special-token positions (as the reference).</summary>
    [JsonPropertyName("skip_special_tokens")] public bool SkipSpecialTokens { get; init; } = true;
    /// <summary>Load the model even if its weights hold NaN or infinite values.</summary>
    [JsonPropertyName("allow_non_finite_weights")] public bool AllowNonFiniteWeights { get; init; }
    /// <summary>Compute dtype of the transformer forward; null: the run's <c>dtype</c> (runs before format 2 used one dtype for both).</summary>
    [JsonPropertyName("model_dtype")] public string? DType { get; init; }
}

/// <summary>The training and validation data of a run, and how it is batched.</summary>
public sealed record TrainDataOptions
{
    /// <summary>Training data source (file, folder, glob, hub dataset id, or <c>embedded</c>).</summary>
    [JsonPropertyName("data")] public required string Source { get; init; }
    /// <summary>Hub dataset split.</summary>
    [JsonPropertyName("split")] public string Split { get; init; } = "train";
    /// <summary>Hub dataset revision.</summary>
    [JsonPropertyName("data_revision")] public string Revision { get; init; } = "main";
    /// <summary>JSON field / Parquet column of the text.</summary>
    [JsonPropertyName("text_field")] public string TextField { get; init; } = "text";
    /// <summary>Skip malformed records instead of failing.</summary>
    [JsonPropertyName("skip_bad_lines")] public bool SkipBadLines { get; init; }
    /// <summary>The largest record read (JSONL line, Parquet value, .txt file).</summary>
    [JsonPropertyName("max_document_bytes")] public long MaxDocumentBytes { get; init; } = Data.DocumentOptions.DefaultMaxDocumentBytes;
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
    /// <summary>The activation cache the training stream and its vectors are read from (<c>--activations</c>),
    /// or null: the model runs on <see cref="Source"/>.</summary>
    [JsonPropertyName("activations")] public global::Mlsae.Activations.Cache.ActivationCacheReference? Activations { get; init; }

    /// <summary>Fails with a message naming the bad flag.</summary>
    public void Validate()
    {
        OptionChecks.Positive(MaxLength, "--max-length");
        OptionChecks.Positive(BatchSize, "--batch-size");
        OptionChecks.Positive(MaxDocumentBytes, "--max-document-bytes");
        if (ValBatches < 0) throw new MlsaeException($"--val-batches must not be negative, got {ValBatches}");
        Data.Shard.Parse(Shard);
    }
}

/// <summary>The sparse coder of a run: its kind, architecture and training rules.</summary>
public sealed record AutoencoderOptions
{
    /// <summary>The sparse coder's kind: <c>mlsae</c> (one TopK SAE shared by all layers), <c>per-layer</c> (one TopK
    /// SAE per layer) or <c>crosscoder</c> (one latent vector per token for all layers); see <see cref="SparseCoderFactory"/>.</summary>
    [JsonPropertyName("kind")] public string Kind { get; init; } = "mlsae";
    /// <summary>Latents per input dimension.</summary>
    [JsonPropertyName("expansion_factor")] public int ExpansionFactor { get; init; } = 16;
    /// <summary>Latents kept per vector (per token for a crosscoder: the value used, which without <c>-k</c> is
    /// L × the MLSAE's default, <see cref="SparseCoderFactory.DefaultK"/>).</summary>
    [JsonPropertyName("k")] public int K { get; init; } = 32;
    /// <summary>Dead latents in the AuxK loss; null disables it.</summary>
    [JsonPropertyName("auxk")] public int? AuxK { get; init; } = 256;
    /// <summary>AuxK loss coefficient.</summary>
    [JsonPropertyName("auxk_coef")] public double AuxKCoef { get; init; } = 1.0 / 32;
    /// <summary>Tokens without firing after which a latent is dead.</summary>
    [JsonPropertyName("dead_tokens_threshold")] public long DeadTokensThreshold { get; init; } = 10_000_000;
    /// <summary>Activation above which a latent fires.</summary>
    [JsonPropertyName("dead_threshold")] public double DeadThreshold { get; init; } = 1e-3;
    /// <summary>Standardize input vectors.</summary>
    [JsonPropertyName("standardize")] public bool Standardize { get; init; } = true;
    /// <summary>Seed of the autoencoder's initialization.</summary>
    [JsonPropertyName("seed")] public long Seed { get; init; }
    /// <summary>Reproduce the reference's three inconsistencies exactly (AuxK space, dead-latent counting, bias init).</summary>
    [JsonPropertyName("reference_quirks")] public bool ReferenceQuirks { get; init; }
    /// <summary>Compute dtype of the autoencoder's encoder matmul (explicit casting; parameters, decode and loss stay float32),
    /// and of the transformer when <see cref="ModelOptions.DType"/> is null.</summary>
    [JsonPropertyName("dtype")] public string DType { get; init; } = "float32";
    /// <summary>The tuned lens applied to each layer's vectors before the coder (its source, Space revision
    /// and content hash); null for none. Every command reading the run applies it.</summary>
    [JsonPropertyName("tuned_lens")] public Lens.TunedLensReference? TunedLens { get; init; }

    /// <summary>Fails with a message naming the bad flag.</summary>
    public void Validate()
    {
        if (!SparseCoderFactory.Kinds.Contains(Kind))
            throw new MlsaeException($"--kind: '{Kind}' is not a sparse coder this version trains ({string.Join(", ", SparseCoderFactory.Kinds)})");
        if (Kind == SparseCoderFactory.Crosscoder && ReferenceQuirks)
            throw new MlsaeException("--reference-quirks: the quirks reproduce the reference's MLSAE (and per-layer SAEs, which are MLSAEs); the reference has no crosscoder");
        OptionChecks.Positive(ExpansionFactor, "--expansion-factor");
        OptionChecks.Positive(K, "-k");
        OptionChecks.Positive(DeadTokensThreshold, "--dead-tokens-threshold");
        if (AuxK is int a) OptionChecks.Positive(a, "--auxk");
        if (!(AuxKCoef >= 0) || !double.IsFinite(AuxKCoef)) throw new MlsaeException($"--auxk-coef must be a non-negative number, got {AuxKCoef}");
    }
}

/// <summary>The optimizer and the token budget of a run.</summary>
public sealed record OptimizerOptions
{
    /// <summary>Adam learning rate.</summary>
    [JsonPropertyName("lr")] public double Lr { get; init; } = 1e-4;
    /// <summary>Batches per optimizer step.</summary>
    [JsonPropertyName("accumulate_grad_batches")] public int AccumulateGradBatches { get; init; } = 64;
    /// <summary>Tokens to train on (batches = ceil(max_tokens / (batch_size · max_length))).</summary>
    [JsonPropertyName("max_tokens")] public long MaxTokens { get; init; } = 1_000_000_000;

    /// <summary>Fails with a message naming the bad flag.</summary>
    public void Validate()
    {
        OptionChecks.Positive(AccumulateGradBatches, "--accumulate-grad-batches");
        OptionChecks.Positive(MaxTokens, "--max-tokens");
        if (!(Lr > 0) || !double.IsFinite(Lr)) throw new MlsaeException($"--lr must be a positive number, got {Lr}");
    }
}

/// <summary>Where a run executes and what it writes when.</summary>
public sealed record RuntimeOptions
{
    /// <summary>cpu, cuda or cuda:N.</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";
    /// <summary>Optimizer steps between metrics lines.</summary>
    [JsonPropertyName("log_every")] public int LogEvery { get; init; } = 1;
    /// <summary>Optimizer steps between validations (0: only at the end).</summary>
    [JsonPropertyName("val_every")] public int ValEvery { get; init; } = 50;
    /// <summary>Optimizer steps between resumable checkpoints.</summary>
    [JsonPropertyName("checkpoint_every")] public int CheckpointEvery { get; init; } = 10;
    /// <summary>Processes (MPI ranks) that started the run together, data-parallel; 1 for one process.
    /// A resumed run keeps the number it was started with, whatever number resumes it.</summary>
    [JsonPropertyName("world_size")] public int WorldSize { get; init; } = 1;

    /// <summary>Fails with a message naming the bad flag.</summary>
    public void Validate()
    {
        OptionChecks.Positive(LogEvery, "--log-every");
        OptionChecks.Positive(CheckpointEvery, "--checkpoint-every");
        if (ValEvery < 0) throw new MlsaeException($"--val-every must not be negative, got {ValEvery}");
        if (WorldSize < 1) throw new MlsaeException($"world_size must be at least 1, got {WorldSize}");
    }
}

static class OptionChecks
{
    public static void Positive(long v, string flag)
    {
        if (v <= 0) throw new MlsaeException($"{flag} must be positive, got {v}");
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlsae.Training;

/// <summary>Every argument of a language-model pretraining run, saved as <c>pretrain.json</c>.</summary>
public sealed record PretrainOptions
{
    /// <summary>Tokenizer folder (its files are copied beside the model).</summary>
    [JsonPropertyName("tokenizer")] public required string Tokenizer { get; init; }
    /// <summary>Training text source (<c>embedded</c>: the synthetic corpus).</summary>
    [JsonPropertyName("data")] public string Data { get; init; } = "embedded";
    /// <summary>Held-out text source for the evaluation loss.</summary>
    [JsonPropertyName("val_data")] public string ValData { get; init; } = "embedded:heldout";
    /// <summary>Transformer blocks.</summary>
    [JsonPropertyName("layers")] public int Layers { get; init; } = 6;
    /// <summary>d_model.</summary>
    [JsonPropertyName("d_model")] public int DModel { get; init; } = 128;
    /// <summary>Attention heads.</summary>
    [JsonPropertyName("heads")] public int Heads { get; init; } = 4;
    /// <summary>Fraction of each head's dims that get rotary embeddings (Pythia: 0.25).</summary>
    [JsonPropertyName("rotary_pct")] public double RotaryPct { get; init; } = 0.25;
    /// <summary>Tokens per training sequence.</summary>
    [JsonPropertyName("max_length")] public int MaxLength { get; init; } = 256;
    /// <summary>Sequences per step.</summary>
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 16;
    /// <summary>Tokens to train on.</summary>
    [JsonPropertyName("max_tokens")] public long MaxTokens { get; init; } = 20_000_000;
    /// <summary>Peak learning rate.</summary>
    [JsonPropertyName("lr")] public double Lr { get; init; } = 2e-3;
    /// <summary>Final learning rate as a fraction of the peak (cosine decay).</summary>
    [JsonPropertyName("min_lr_ratio")] public double MinLrRatio { get; init; } = 0.1;
    /// <summary>Linear warm-up steps.</summary>
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; } = 200;
    /// <summary>AdamW decoupled weight decay on matrices.</summary>
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; } = 0.1;
    /// <summary>Gradient clipping by global norm.</summary>
    [JsonPropertyName("grad_clip")] public double GradClip { get; init; } = 1.0;
    /// <summary>Initialization seed.</summary>
    [JsonPropertyName("seed")] public long Seed { get; init; }
    /// <summary>Steps between held-out evaluations.</summary>
    [JsonPropertyName("eval_every")] public int EvalEvery { get; init; } = 200;
    /// <summary>Held-out batches per evaluation.</summary>
    [JsonPropertyName("eval_batches")] public int EvalBatches { get; init; } = 8;
    /// <summary>Steps between resumable checkpoints.</summary>
    [JsonPropertyName("checkpoint_every")] public int CheckpointEvery { get; init; } = 100;
    /// <summary>Dtype of the saved weights.</summary>
    [JsonPropertyName("storage_dtype")] public string StorageDtype { get; init; } = "float16";

    /// <summary>Optimizer steps.</summary>
    [JsonIgnore] public long TotalSteps => (MaxTokens + (long)BatchSize * MaxLength - 1) / ((long)BatchSize * MaxLength);

    /// <summary>The learning rate at (1-based) <paramref name="step"/>: linear warm-up, then cosine to <c>lr · min_lr_ratio</c>.</summary>
    public double LearningRate(long step)
    {
        if (step <= WarmupSteps) return Lr * step / Math.Max(1, WarmupSteps);
        double progress = Math.Min(1, (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps));
        double min = Lr * MinLrRatio;
        return min + (Lr - min) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>Fails with a message naming the bad flag.</summary>
    public PretrainOptions Validate()
    {
        void Positive(double v, string flag) { if (!(v > 0)) throw new MlsaeException($"{flag} must be positive, got {v}"); }
        Positive(Layers, "--layers"); Positive(DModel, "--d-model"); Positive(Heads, "--heads"); Positive(MaxLength, "--max-length");
        Positive(BatchSize, "--batch-size"); Positive(MaxTokens, "--max-tokens"); Positive(Lr, "--lr"); Positive(EvalEvery, "--eval-every");
        Positive(CheckpointEvery, "--checkpoint-every"); Positive(GradClip, "--grad-clip");
        if (DModel % Heads != 0) throw new MlsaeException($"--d-model {DModel} is not divisible by --heads {Heads}");
        if (WarmupSteps < 0) throw new MlsaeException($"--warmup-steps must not be negative, got {WarmupSteps}");
        if (MinLrRatio is < 0 or > 1) throw new MlsaeException($"--min-lr-ratio must be in [0, 1], got {MinLrRatio}");
        return this;
    }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The <c>pretrain.json</c> text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a <c>pretrain.json</c>.</summary>
    public static PretrainOptions Load(string path)
    {
        try { return JsonSerializer.Deserialize<PretrainOptions>(File.ReadAllText(path), Json) ?? throw new MlsaeException($"{path}: empty"); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: not a valid pretrain.json", e); }
    }
}

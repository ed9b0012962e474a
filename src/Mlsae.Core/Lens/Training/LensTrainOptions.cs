using System.Text.Json;
using System.Text.Json.Serialization;
using Mlsae.Data;

namespace Mlsae.Lens.Training;

/// <summary>
/// Every argument of a tuned-lens training run (<c>train_lens_args.json</c>), with the recipe of
/// the tuned-lens package (<c>tuned_lens/scripts/train_loop.py</c>, <c>ingredients.py</c>): KL loss,
/// SGD with Nesterov momentum 0.9 at lr <c>lr_scale · (1 − momentum)</c>, weight decay 1e-3,
/// gradient clipping at norm 1, linear schedule (warm-up, then decay to zero), 250 steps. Only the
/// tokens per step are scaled to the data (the package's 2^18 are 256 sequences of 1024).
/// </summary>
public sealed record LensTrainOptions
{
    /// <summary>The model as named (a folder, a hub id, or <c>embedded</c>).</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>Hub revision of the model.</summary>
    [JsonPropertyName("revision")] public string Revision { get; init; } = "main";
    /// <summary>Training data source.</summary>
    [JsonPropertyName("data")] public required string Data { get; init; }
    /// <summary>Split of a hub dataset.</summary>
    [JsonPropertyName("split")] public string Split { get; init; } = "train";
    /// <summary>Hub revision of the dataset.</summary>
    [JsonPropertyName("data_revision")] public string DataRevision { get; init; } = "main";
    /// <summary>JSON field or Parquet column of the text.</summary>
    [JsonPropertyName("text_field")] public string TextField { get; init; } = "text";
    /// <summary>Skip malformed records instead of failing.</summary>
    [JsonPropertyName("skip_bad_lines")] public bool SkipBadLines { get; init; }
    /// <summary>The largest record read.</summary>
    [JsonPropertyName("max_document_bytes")] public long MaxDocumentBytes { get; init; } = DocumentOptions.DefaultMaxDocumentBytes;
    /// <summary>The part of the stream kept (<c>i/n</c>), or null for all.</summary>
    [JsonPropertyName("shard")] public string? Shard { get; init; }
    /// <summary>Held-out data for the identity-vs-lens KL, or null: the first <see cref="ValBatches"/> batches of <see cref="Data"/>, skipped by training.</summary>
    [JsonPropertyName("val_data")] public string? ValData { get; init; }
    /// <summary>Held-out batches.</summary>
    [JsonPropertyName("val_batches")] public int ValBatches { get; init; } = 4;
    /// <summary>Tokens per sequence (the package's <c>max_seq_len</c>, 2048).</summary>
    [JsonPropertyName("max_length")] public int MaxLength { get; init; } = 2048;
    /// <summary>Sequences per forward pass (the package's <c>per_gpu_batch_size</c>).</summary>
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 1;
    /// <summary>Batches per optimizer step (the package derives it from <c>tokens_per_step</c> 2^18).</summary>
    [JsonPropertyName("accumulate_grad_batches")] public int AccumulateGradBatches { get; init; } = 128;
    /// <summary>Optimizer steps (the package's <c>num_steps</c>).</summary>
    [JsonPropertyName("num_steps")] public int NumSteps { get; init; } = 250;
    /// <summary>Scale of the default learning rate (SGD: 1, applied as <c>lr_scale · (1 − momentum)</c>).</summary>
    [JsonPropertyName("lr_scale")] public double LrScale { get; init; } = 1.0;
    /// <summary>Nesterov momentum.</summary>
    [JsonPropertyName("momentum")] public double Momentum { get; init; } = 0.9;
    /// <summary>L2 weight decay (added to the gradient, as <c>torch.optim.SGD</c>), pulling translators toward the identity.</summary>
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; } = 1e-3;
    /// <summary>Linear warm-up steps (the package: 0 for SGD).</summary>
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; }
    /// <summary>Clip the gradient to this global norm.</summary>
    [JsonPropertyName("grad_clip")] public double GradClip { get; init; } = 1.0;
    /// <summary>Seed of the order in which training batches are drawn within each shuffle window.</summary>
    [JsonPropertyName("seed")] public long Seed { get; init; } = 42;
    /// <summary>Batches per shuffle window (1: the stream's order).</summary>
    [JsonPropertyName("shuffle_batches")] public int ShuffleBatches { get; init; } = 64;
    /// <summary>Optimizer steps between resumable checkpoints.</summary>
    [JsonPropertyName("checkpoint_every")] public int CheckpointEvery { get; init; } = 25;
    /// <summary>Device (cpu, cuda).</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "cpu";

    /// <summary>The SGD learning rate: PyTorch's momentum scales steps by 1/(1 − β); the package undoes it.</summary>
    [JsonIgnore] public double Lr => LrScale * (1 - Momentum);

    /// <summary>The schedule factor at 0-based step <paramref name="step"/>, as the package's
    /// <c>get_linear_schedule_with_warmup(opt, warmup, num_steps − warmup)</c>: up linearly over the
    /// warm-up, then down linearly to zero at <c>num_steps − warmup</c>.</summary>
    public double Schedule(long step)
    {
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        long total = NumSteps - WarmupSteps;
        return Math.Max(0, (double)(total - step) / Math.Max(1, total - WarmupSteps));
    }

    /// <summary>Tokens per optimizer step.</summary>
    [JsonIgnore] public long TokensPerStep => (long)MaxLength * BatchSize * AccumulateGradBatches;

    /// <summary>Fails with a message naming the bad flag.</summary>
    public LensTrainOptions Validate()
    {
        void Positive(double v, string flag) { if (!(v > 0)) throw new MlsaeException($"{flag} must be positive, got {v}"); }
        Positive(MaxLength, "--max-length"); Positive(BatchSize, "--batch-size"); Positive(AccumulateGradBatches, "--accumulate-grad-batches");
        Positive(NumSteps, "--num-steps"); Positive(LrScale, "--lr-scale"); Positive(GradClip, "--grad-clip"); Positive(CheckpointEvery, "--checkpoint-every");
        Positive(ValBatches, "--val-batches"); Positive(ShuffleBatches, "--shuffle-batches");
        if (Momentum is < 0 or >= 1) throw new MlsaeException($"--momentum must be in [0, 1), got {Momentum}");
        if (!(WeightDecay >= 0)) throw new MlsaeException($"--weight-decay must not be negative, got {WeightDecay}");
        if (WarmupSteps < 0 || WarmupSteps * 2 >= NumSteps && WarmupSteps > 0)
            throw new MlsaeException($"--warmup-steps must be in [0, num_steps / 2) (the schedule decays to zero at num_steps − warmup), got {WarmupSteps}");
        return this;
    }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The JSON text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads <see cref="ToJson"/>'s file.</summary>
    public static LensTrainOptions Load(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"--resume: {path} not found");
        try { return JsonSerializer.Deserialize<LensTrainOptions>(File.ReadAllText(path), Json) ?? throw new MlsaeException($"{path}: empty"); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: not a valid train-lens arguments file", e); }
    }
}

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mlsae.Data;
using Mlsae.IO;

namespace Mlsae.Activations.Cache;

/// <summary>
/// <c>index.json</c> of an activation cache: what was run (model, revision, a fingerprint of its
/// files, compute dtype, layers), on which sequences (the data options, max_length, batch size,
/// token budget), how the vectors are stored (dtype, sequences per shard), the shards written so
/// far and whether the cache is complete. The writer rewrites it atomically after every shard, so
/// it always describes whole shards on disk.
/// </summary>
public sealed record ActivationCacheIndex
{
    /// <summary>The index's file name in a cache folder.</summary>
    public const string FileName = "index.json";
    /// <summary>The <c>format_version</c> this code writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Version of this layout.</summary>
    [JsonPropertyName("format_version")] public int FormatVersion { get; init; } = CurrentFormatVersion;
    /// <summary>The model as named (a hub id, <c>embedded</c>, or a local folder's full path).</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>Hub revision of the model.</summary>
    [JsonPropertyName("revision")] public string Revision { get; init; } = "main";
    /// <summary><see cref="ModelFingerprint"/> of the model folder: config.json and the weight files.</summary>
    [JsonPropertyName("model_fingerprint")] public required string ModelFingerprint { get; init; }
    /// <summary>Compute dtype of the forward passes that produced the vectors.</summary>
    [JsonPropertyName("model_dtype")] public string ModelDType { get; init; } = "float32";
    /// <summary>D.</summary>
    [JsonPropertyName("hidden_size")] public required int HiddenSize { get; init; }
    /// <summary>Model layer indices, in the order of the shards' first dimension.</summary>
    [JsonPropertyName("layers")] public required int[] Layers { get; init; }
    /// <summary>The packing's max_length (after the tokenizer's model_max_length, as the reference).</summary>
    [JsonPropertyName("max_length")] public required int MaxLength { get; init; }
    /// <summary>T of every stored sequence (pre-tokenized lines keep their own length); null before the first shard.</summary>
    [JsonPropertyName("sequence_length")] public int? SequenceLength { get; init; }
    /// <summary>Sequences per forward pass: a run reading batches of this size reads exactly the vectors a model run computes.</summary>
    [JsonPropertyName("batch_size")] public required int BatchSize { get; init; }
    /// <summary>Token budget: ceil(max_tokens / (batch_size · max_length)) batches, as train counts them.</summary>
    [JsonPropertyName("max_tokens")] public required long MaxTokens { get; init; }
    /// <summary>Where the sequences came from.</summary>
    [JsonPropertyName("data")] public required CachedData Data { get; init; }
    /// <summary>The model's bos/eos/pad ids. The stored vectors are raw block outputs, never zeroed:
    /// a reader zeroes these positions (or not, <c>--no-skip-special-tokens</c>) as a model run does.</summary>
    [JsonPropertyName("special_token_ids")] public required long[] SpecialTokenIds { get; init; }
    /// <summary>Always false: the vectors are stored before any zeroing or lens.</summary>
    [JsonPropertyName("special_tokens_zeroed")] public bool SpecialTokensZeroed { get; init; }
    /// <summary>Dtype of <c>hidden</c> in the shards (float32: exact; float16/bfloat16: rounded, read back as float32).</summary>
    [JsonPropertyName("storage_dtype")] public string StorageDType { get; init; } = "float32";
    /// <summary>Sequences in every shard but the last (a multiple of <see cref="BatchSize"/>).</summary>
    [JsonPropertyName("sequences_per_shard")] public required int SequencesPerShard { get; init; }
    /// <summary>The shards written, in stream order.</summary>
    [JsonPropertyName("shards")] public IReadOnlyList<CacheShard> Shards { get; init; } = [];
    /// <summary>Whether the writer reached the budget or the end of the data.</summary>
    [JsonPropertyName("completed")] public bool Completed { get; init; }

    /// <summary>Sequences stored.</summary>
    [JsonPropertyName("sequences")] public long Sequences => Shards.Sum(s => (long)s.Sequences);
    /// <summary>Tokens stored.</summary>
    [JsonPropertyName("tokens")] public long Tokens => Sequences * (SequenceLength ?? 0);
    /// <summary>Batches the budget allows.</summary>
    [JsonIgnore] public long TotalBatches => (MaxTokens + (long)BatchSize * MaxLength - 1) / ((long)BatchSize * MaxLength);

    /// <summary>The index file of <paramref name="folder"/>.</summary>
    public static string PathIn(string folder) => Path.Combine(folder, FileName);

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, RespectNullableAnnotations = true };

    /// <summary>Writes the index atomically.</summary>
    public void Save(string folder) => AtomicFile.WriteText(PathIn(folder), JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>Reads and checks the index of <paramref name="folder"/>; every problem names the file.</summary>
    public static ActivationCacheIndex Load(string folder)
    {
        var path = PathIn(folder);
        if (!File.Exists(path)) throw new MlsaeException($"--activations: {folder} holds no {FileName} (not an activation cache written by mlsae cache)");
        ActivationCacheIndex index;
        try { index = JsonSerializer.Deserialize<ActivationCacheIndex>(File.ReadAllBytes(path), Json) ?? throw new MlsaeException($"{path}: empty"); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: not a valid activation cache index", e); }
        catch (IOException e) { throw MlsaeException.From($"{path}: cannot read", e); }
        return index.Check(path);
    }

    ActivationCacheIndex Check(string path)
    {
        if (FormatVersion != CurrentFormatVersion)
            throw new MlsaeException($"{path}: format_version {FormatVersion} (this mlsae reads {CurrentFormatVersion})");
        if (Layers is null || Layers.Length == 0 || Layers.Distinct().Count() != Layers.Length || Layers.Any(l => l < 0))
            throw new MlsaeException($"{path}: layers must be distinct non-negative indices");
        if (HiddenSize <= 0 || MaxLength <= 0 || BatchSize <= 0 || MaxTokens <= 0 || SequencesPerShard <= 0 || SequencesPerShard % BatchSize != 0 || SequenceLength <= 0)
            throw new MlsaeException($"{path}: hidden_size, max_length, batch_size, max_tokens, sequence_length and sequences_per_shard must be positive, and sequences_per_shard a multiple of batch_size");
        Tensors.DTypes.Parse(StorageDType);
        Tensors.DTypes.Parse(ModelDType);
        for (int i = 0; i < Shards.Count; i++)
        {
            var s = Shards[i];
            if (s.File != CacheShard.FileNameOf(i) || s.Sequences <= 0 || (s.Sequences > SequencesPerShard) || s.Bytes <= 0 || s.LastSequence < s.FirstSequence
                || (i > 0 && s.FirstSequence <= Shards[i - 1].LastSequence) || (i < Shards.Count - 1 && s.Sequences != SequencesPerShard))
                throw new MlsaeException($"{path}: shard {i} ({s.File}) is inconsistent with the index");
        }
        if (Shards.Count > 0 && SequenceLength is null) throw new MlsaeException($"{path}: shards but no sequence_length");
        return this;
    }

    /// <summary>The settings a writer was started with (no shards, not complete, length unknown):
    /// what a resumed write must ask for again.</summary>
    [JsonIgnore] public ActivationCacheIndex Settings => this with { Shards = [], Completed = false, SequenceLength = null };

    /// <summary>The first setting in which <paramref name="asked"/> differs from this index, as
    /// "key (cache: value, asked: value)", or null when every setting agrees.</summary>
    public string? FirstDifference(ActivationCacheIndex asked)
    {
        var mine = JsonSerializer.SerializeToNode(Settings, Json)!.AsObject();
        var theirs = JsonSerializer.SerializeToNode(asked.Settings, Json)!.AsObject();
        foreach (var (key, value) in mine)
            if (!JsonNode.DeepEquals(value, theirs[key]))
                return $"{key} (cache: {value?.ToJsonString() ?? "null"}, asked: {theirs[key]?.ToJsonString() ?? "null"})";
        return null;
    }

    /// <summary>SHA-256 of the index file as it stands (what a run records, so a changed cache is noticed).</summary>
    public static string Sha256Of(string folder) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(PathIn(folder))));
}

/// <summary>The data options the cached sequences were packed with (as <c>mlsae data</c> and <c>train</c> take them).</summary>
public sealed record CachedData
{
    /// <summary>The source as named (a local path as its full path).</summary>
    [JsonPropertyName("data")] public required string Data { get; init; }
    /// <summary>Hub dataset split.</summary>
    [JsonPropertyName("split")] public string Split { get; init; } = "train";
    /// <summary>Hub dataset revision.</summary>
    [JsonPropertyName("data_revision")] public string Revision { get; init; } = "main";
    /// <summary>JSON field / Parquet column of the text.</summary>
    [JsonPropertyName("text_field")] public string TextField { get; init; } = "text";
    /// <summary>Whether malformed records were skipped.</summary>
    [JsonPropertyName("skip_bad_lines")] public bool SkipBadLines { get; init; }
    /// <summary>The largest record read.</summary>
    [JsonPropertyName("max_document_bytes")] public long MaxDocumentBytes { get; init; } = DocumentOptions.DefaultMaxDocumentBytes;
    /// <summary>The part of the stream cached, <c>i/n</c>.</summary>
    [JsonPropertyName("shard")] public string Shard { get; init; } = "0/1";

    /// <summary>The source.</summary>
    [JsonIgnore] public DataSource Source => new(Data, Split, Revision);
    /// <summary>How its documents were read.</summary>
    [JsonIgnore] public DocumentOptions Documents => new(TextField, SkipBadLines, MaxDocumentBytes);
}

/// <summary>One shard file of a cache: <c>hidden</c> [L, S, T, D], <c>tokens</c> [S, T] int64,
/// <c>indices</c> [S] int64 (each sequence's index in the unsharded stream) and, in its metadata,
/// each sequence's stream position after it.</summary>
public sealed record CacheShard
{
    /// <summary>Its file name in the cache folder.</summary>
    [JsonPropertyName("file")] public required string File { get; init; }
    /// <summary>S.</summary>
    [JsonPropertyName("sequences")] public required int Sequences { get; init; }
    /// <summary>Stream index of its first sequence.</summary>
    [JsonPropertyName("first_sequence")] public required long FirstSequence { get; init; }
    /// <summary>Stream index of its last sequence.</summary>
    [JsonPropertyName("last_sequence")] public required long LastSequence { get; init; }
    /// <summary>The data stream's position after its last sequence: where a resumed write reopens the data.</summary>
    [JsonPropertyName("next")] public required DataPosition Next { get; init; }
    /// <summary>The file's size (a truncated or replaced file is refused before it is read).</summary>
    [JsonPropertyName("bytes")] public required long Bytes { get; init; }
    /// <summary>SHA-256 of the file as written.</summary>
    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }

    /// <summary>The file name of shard <paramref name="i"/>.</summary>
    public static string FileNameOf(int i) => $"shard-{i:D5}.safetensors";
}

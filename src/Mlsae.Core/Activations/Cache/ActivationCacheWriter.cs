using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Mlsae.Data;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Activations.Cache;

/// <summary>
/// Writes an activation cache: the batch source's batches go through the model once, without
/// gradients, and their raw block outputs (no hook, no zeroing: those apply when the cache is
/// read) fill shards of <see cref="ActivationCacheIndex.SequencesPerShard"/> sequences, each written
/// atomically, the index rewritten atomically after it. Memory is bounded by construction: one
/// shard's buffer (allocated once) and one batch's forward pass, whatever the budget. A write that
/// was killed resumes: the index names the shards on disk and the data position after the last,
/// the stream reopens there, and since shards hold whole batches the batches and their vectors are
/// those of an uninterrupted write, so the files are too.
/// </summary>
public static class ActivationCacheWriter
{
    /// <summary>Writes (or continues) the cache in <paramref name="folder"/> with <paramref name="settings"/>
    /// (an index without shards) from <paramref name="source"/> through <paramref name="model"/>. A folder
    /// holding an unfinished cache with other settings is an error naming the first that differs;
    /// a finished one with the same settings is left as it is.</summary>
    public static ActivationCacheIndex Write(string folder, ActivationCacheIndex settings, ILanguageModel model, BatchSource source, IRunObserver observer)
    {
        var index = Existing(folder, settings, observer);
        if (index.Completed) return index;
        CleanStaleTemps(folder);
        long tokensPerBatch = (long)settings.BatchSize * settings.MaxLength;
        long done = index.Shards.Count * (long)settings.SequencesPerShard / settings.BatchSize;   // every shard before the last is full of whole batches
        return observer.Progress("cache", index.TotalBatches * tokensPerBatch, "tokens", progress =>
        {
            progress(done * tokensPerBatch);
            ShardBuffer? buffer = null;
            try
            {
                foreach (var batch in source.Batches(index.Shards.Count > 0 ? index.Shards[^1].Next : null).Take(checked((int)Math.Min(int.MaxValue, index.TotalBatches - done))))
                {
                    // A budget below one shard needs no full-size buffer.
                    buffer ??= new ShardBuffer(index, batch.Sequences[0].Length, (int)Math.Min(settings.SequencesPerShard, (index.TotalBatches - done) * settings.BatchSize));
                    using (var scope = NewDisposeScope())
                    using (no_grad())
                    {
                        var tokens = TokenBatch.ToTensor(batch.Sequences, model.Config.VocabSize, model.Device);
                        var hidden = model.Forward(tokens, settings.Layers).HiddenStates;       // [L, B, T, D], the model's compute dtype
                        buffer.Add(hidden.to(ScalarType.Float32), batch);                      // as ResidualStream casts it, then to storage
                    }
                    if (buffer.Full) index = Flush(folder, index, buffer);
                    progress(++done * tokensPerBatch);
                }
                if (buffer is { Count: > 0 }) index = Flush(folder, index, buffer);
            }
            finally { buffer?.Dispose(); }
            if (index.Shards.Count == 0) throw new MlsaeException($"--data: no sequences to cache ({source.Report.Summary()})");
            index = index with { Completed = true };
            index.Save(folder);
            return index;
        });
    }

    /// <summary>The index to continue from: the folder's own when it has one with the same settings, else a fresh one.</summary>
    static ActivationCacheIndex Existing(string folder, ActivationCacheIndex settings, IRunObserver observer)
    {
        if (!File.Exists(ActivationCacheIndex.PathIn(folder)))
        {
            if (Directory.Exists(folder) && Directory.EnumerateFiles(folder, "shard-*.safetensors").Any())
                observer.Notice($"cache: {folder} holds shard files but no index; writing them again");
            return settings.Settings;
        }
        var existing = ActivationCacheIndex.Load(folder);
        if (existing.FirstDifference(settings) is string difference)
            throw new MlsaeException($"--out: {folder} holds a cache written with other settings: {difference}; choose another folder or ask for the same");
        if (existing.Completed) observer.Notice($"cache: {folder} is already complete ({existing.Sequences:N0} sequences, {existing.Tokens:N0} tokens)");
        else if (existing.Shards.Count > 0) observer.Notice($"cache: resuming {folder} after shard {existing.Shards.Count - 1} ({existing.Sequences:N0} sequences)");
        return existing;
    }

    static ActivationCacheIndex Flush(string folder, ActivationCacheIndex index, ShardBuffer buffer)
    {
        int number = index.Shards.Count;
        var file = CacheShard.FileNameOf(number);
        var path = Path.Combine(folder, file);
        buffer.Write(path, number);
        var shard = new CacheShard
        {
            File = file, Sequences = buffer.Count, FirstSequence = buffer.FirstIndex, LastSequence = buffer.LastIndex, Next = buffer.Next,
            Bytes = new FileInfo(path).Length, Sha256 = Sha256(path),
        };
        buffer.Clear();
        index = index with { Shards = [.. index.Shards, shard], SequenceLength = buffer.SequenceLength };
        index.Save(folder);
        return index;
    }

    static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Removes the temp files of shard and index writes whose process is gone (a killed write).</summary>
    static void CleanStaleTemps(string folder)
    {
        if (!Directory.Exists(folder)) return;
        foreach (var tmp in Directory.EnumerateFiles(folder, ".*.tmp"))
        {
            var parts = Path.GetFileName(tmp).Split('.');
            // AtomicFile's ".<name>.<pid>.<guid>.tmp"
            if (parts.Length < 4 || !int.TryParse(parts[^3], out int pid) || Alive(pid)) continue;
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>One shard's vectors, token ids, indices and positions, filled batch by batch. The
    /// tensor is allocated once (a shard, or the budget when that is smaller) and reused for every shard.</summary>
    sealed class ShardBuffer : IDisposable
    {
        readonly Tensor hidden;                 // [L, S, T, D] storage dtype
        readonly long[][] tokens;
        readonly long[] indices;
        readonly DataPosition[] positions;
        readonly ActivationCacheIndex index;

        public ShardBuffer(ActivationCacheIndex index, int sequenceLength, int capacity)
        {
            if (index.SequenceLength is int known && known != sequenceLength)
                throw new MlsaeException($"--data: sequences of {sequenceLength} tokens, but the cache being resumed holds sequences of {known}");
            this.index = index;
            SequenceLength = sequenceLength;
            int s = capacity;
            hidden = empty([index.Layers.Length, s, sequenceLength, index.HiddenSize], DTypes.Parse(index.StorageDType));
            tokens = new long[s][];
            indices = new long[s];
            positions = new DataPosition[s];
        }

        public int SequenceLength { get; }
        public int Count { get; private set; }
        public bool Full => Count == index.SequencesPerShard;
        public long FirstIndex => indices[0];
        public long LastIndex => indices[Count - 1];
        public DataPosition Next => positions[Count - 1];

        /// <summary>Copies a batch's vectors (cast to the storage dtype) and ids in. // hidden [L, B, T, D]</summary>
        public void Add(Tensor batchHidden, TokenBatch batch)
        {
            Shapes.Check(batchHidden, "cache: block outputs", [index.Layers.Length, batch.Size, SequenceLength, index.HiddenSize]);
            hidden.narrow(1, Count, batch.Size).copy_(batchHidden);
            for (int b = 0; b < batch.Size; b++)
            {
                tokens[Count + b] = batch.Sequences[b];
                indices[Count + b] = batch.Indices[b];
            }
            // A batch carries only the position after its last sequence; the positions of the
            // sequences inside it are never resumed from (shards hold whole batches), so each
            // records its index and the batch's last one records the batch's position.
            for (int b = 0; b < batch.Size - 1; b++) positions[Count + b] = new DataPosition { Sequence = batch.Indices[b] + 1 };
            positions[Count + batch.Size - 1] = batch.Next;
            Count += batch.Size;
        }

        public void Write(string path, int number)
        {
            using var scope = NewDisposeScope();
            var flat = new long[Count * (long)SequenceLength];
            for (int i = 0; i < Count; i++) tokens[i].CopyTo(flat, i * (long)SequenceLength);
            var tensors = new Dictionary<string, Tensor>
            {
                [CacheShardFile.Hidden] = Count == hidden.shape[1] ? hidden : hidden.narrow(1, 0, Count),
                [CacheShardFile.TokenIds] = tensor(flat, [Count, SequenceLength]),
                [CacheShardFile.Indices] = tensor(indices.AsSpan(0, Count).ToArray(), [Count]),
            };
            var metadata = new Dictionary<string, string>
            {
                ["format"] = "mlsae-activation-cache",
                ["shard"] = number.ToString(),
                ["model"] = index.Model,
                ["layers"] = string.Join(",", index.Layers),
                ["storage_dtype"] = index.StorageDType,
                [CacheShardFile.PositionsKey] = new JsonArray(positions.Take(Count).Select(p => JsonNode.Parse(p.ToJson())).ToArray()).ToJsonString(),
            };
            SafeTensorsWriter.Write(path, tensors, metadata);
        }

        public void Clear() => Count = 0;

        public void Dispose() => hidden.Dispose();
    }
}

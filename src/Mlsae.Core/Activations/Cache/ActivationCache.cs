using Mlsae.Data;
using Mlsae.Models;
using Mlsae.Tensors;
using Mlsae.Tokenization;
using static TorchSharp.torch;

namespace Mlsae.Activations.Cache;

/// <summary>
/// An activation cache opened for reading: its index, checked; its sequences as a batch source
/// (the data a run from the cache reads, in the original order, with the original indices and
/// positions, so a resume seeks without reading earlier shards); and, attached to a model session,
/// the stored block outputs of any batch whose every row it holds, found by the rows' token ids
/// (so validation batches and analyses find theirs too). Reading keeps at most a few shard files
/// open and reads only the rows and layers asked for.
/// </summary>
public sealed class ActivationCache : ICachedHiddenStates, IDisposable
{
    const int OpenShards = 4;

    readonly Lock gate = new();
    readonly Dictionary<int, CacheShardFile> open = [];
    readonly Queue<int> opened = new();
    Dictionary<ulong, (int Shard, int Row)>? rows;

    ActivationCache(string folder, ActivationCacheIndex index, ActivationCacheReference reference)
    {
        Folder = folder;
        Index = index;
        Reference = reference;
    }

    /// <summary>The cache folder as given.</summary>
    public string Folder { get; }
    /// <summary>Its index.</summary>
    public ActivationCacheIndex Index { get; }
    /// <summary>What a run records of it.</summary>
    public ActivationCacheReference Reference { get; }
    /// <summary>Batches whose block outputs were read from the cache.</summary>
    public long BatchesRead { get; private set; }
    /// <summary>Batches it did not hold (the stream ran the model for them).</summary>
    public long BatchesMissed { get; private set; }

    /// <summary>Opens a finished cache; an unfinished one, a missing or truncated shard file is an error naming it.</summary>
    public static ActivationCache Open(string folder)
    {
        if (!Directory.Exists(folder)) throw new MlsaeException($"--activations: {folder} is not a folder");
        var index = ActivationCacheIndex.Load(folder);
        if (!index.Completed)
            throw new MlsaeException($"--activations: the cache in {folder} is unfinished ({index.Shards.Count} shards); run the same mlsae cache command again to finish it");
        foreach (var shard in index.Shards)
        {
            var path = Path.Combine(folder, shard.File);
            if (!File.Exists(path)) throw new MlsaeException($"{path}: shard file missing (the index lists it)");
            long size = new FileInfo(path).Length;
            if (size != shard.Bytes) throw new MlsaeException($"{path}: {size:N0} bytes, but the index records {shard.Bytes:N0} (truncated or replaced)");
        }
        return new ActivationCache(folder, index, new ActivationCacheReference { Path = Path.GetFullPath(folder), Sha256 = ActivationCacheIndex.Sha256Of(folder) });
    }

    /// <summary>Reopens the cache a run recorded; one whose index changed since is an error.</summary>
    public static ActivationCache Open(ActivationCacheReference recorded)
    {
        var cache = Open(recorded.Path);
        if (cache.Reference.Sha256 != recorded.Sha256)
            throw new MlsaeException($"--activations: the cache in {recorded.Path} changed since the run recorded it (index sha256 {cache.Reference.Sha256}, recorded {recorded.Sha256})");
        return cache;
    }

    /// <summary>A model or data name as a cache records it: a local folder or file as its full path.</summary>
    public static string Normalize(string name) =>
        name != Embedded.EmbeddedModel.Name && (Directory.Exists(name) || File.Exists(name)) ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(name)) : name;

    /// <summary>The data name as a cache records it (a local file, folder or glob as its full path).</summary>
    public static string NormalizeData(DataSource source) => source.IsLocal ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(source.Data)) : source.Data;

    /// <summary>
    /// Checks that <paramref name="session"/> reads what the cache holds (the same model and files in
    /// the same compute dtype, layers the cache stores, <paramref name="maxLength"/> its max_length; each mismatch an error
    /// naming both sides and the cache) and makes its stream read from the cache, which it then owns.
    /// </summary>
    public void AttachTo(ModelSession session, int maxLength)
    {
        if (Normalize(session.Name) != Index.Model)
            throw new MlsaeException($"--model: {session.Name} asked, but the cache in {Folder} was written from {Index.Model}");
        if (ModelFingerprint.Of(session.Folder) is var fingerprint && fingerprint != Index.ModelFingerprint)
            throw new MlsaeException($"--model: the files of {session.Name} (fingerprint {fingerprint[..12]}) are not those the cache in {Folder} was written from (fingerprint {Index.ModelFingerprint[..12]})");
        if (session.Model.Config.HiddenSize != Index.HiddenSize)
            throw new MlsaeException($"--model: {session.Name} has hidden_size {session.Model.Config.HiddenSize}, the cache in {Folder} holds {Index.HiddenSize}-dimensional vectors");
        if (DTypes.Name(session.Model.DType) != Index.ModelDType)
            throw new MlsaeException($"--dtype: {session.Name} runs in {DTypes.Name(session.Model.DType)}, but the cache in {Folder} was computed in {Index.ModelDType}");
        if (session.Layers.Except(Index.Layers).Any())
            throw new MlsaeException($"--layers: [{string.Join(", ", session.Layers)}] asked, but the cache in {Folder} holds layers [{string.Join(", ", Index.Layers)}]");
        CheckMaxLength(maxLength);
        session.ReadHiddenStatesFrom(this);
    }

    /// <summary>The cache <paramref name="session"/>'s stream reads from, which must be the one
    /// <paramref name="recorded"/> names (a run's <c>activations</c>).</summary>
    public static ActivationCache AttachedTo(ModelSession session, ActivationCacheReference recorded)
    {
        if (session.Stream.Cached is not ActivationCache cache)
            throw new MlsaeException($"activations: the run reads the cache {recorded}, but its model session was opened without it (ActivationCache.AttachTo)");
        if (cache.Reference != recorded)
            throw new MlsaeException($"activations: the run records the cache {recorded}, but its model session reads {cache.Reference}");
        return cache;
    }

    /// <summary>A max_length other than the cache's is an error naming both.</summary>
    public void CheckMaxLength(int maxLength)
    {
        if (maxLength != Index.MaxLength)
            throw new MlsaeException($"--max-length: {maxLength} asked, but the cache in {Folder} was packed with max_length {Index.MaxLength}");
    }

    /// <summary>The cached sequences as a batch source of <paramref name="batchSize"/> sequences, keeping
    /// <paramref name="shard"/>'s part of the original stream (the cache's own part when that is all).</summary>
    public BatchSource Source(int batchSize, Shard shard, Func<Tokenizer> tokenizer) =>
        new(Index.Data.Source, Index.Data.Documents, Index.MaxLength, batchSize, shard, tokenizer, Sequences);

    /// <summary>The cached sequences from the first whose stream index is at least <paramref name="start"/>'s
    /// <see cref="DataPosition.Sequence"/> (the beginning when null); shards before it are not opened.</summary>
    public IEnumerable<PackedSequence> Sequences(DataPosition? start)
    {
        long from = start?.Sequence ?? 0;
        foreach (var entry in Index.Shards)
        {
            if (entry.LastSequence < from) continue;
            IReadOnlyList<PackedSequence> sequences;
            using (var file = CacheShardFile.Open(Folder, Index, entry)) sequences = file.Sequences();
            foreach (var s in sequences)
                if (s.Index >= from) yield return s;
        }
    }

    /// <inheritdoc />
    public Tensor? Read(Tensor tokens, IReadOnlyList<int> layers)
    {
        lock (gate)
        {
            using var scope = NewDisposeScope();
            var found = Find(tokens, layers);
            if (found is null)
            {
                BatchesMissed++;
                return null;
            }
            var (ids, locations, positions) = found.Value;
            long b = locations.Length, t = tokens.shape[1];
            var hidden = empty([positions.Length, b, t, Index.HiddenSize], DTypes.Parse(Index.StorageDType));   // [L, B, T, D]
            for (int row = 0; row < b; row++)
            {
                var file = Shard(locations[row].Shard);
                // The hash found a row; its ids decide (a collision reads as not cached).
                if (!file.TokensOf(locations[row].Row).AsSpan().SequenceEqual(ids.AsSpan((int)(row * t), (int)t)))
                {
                    BatchesMissed++;
                    return null;
                }
                for (int i = 0; i < positions.Length; i++)
                {
                    using var slot = hidden[i, row];                                              // [T, D]
                    file.ReadRow(positions[i], locations[row].Row, slot);
                }
            }
            BatchesRead++;
            return hidden.to(ScalarType.Float32).to(tokens.device).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Where each row of <paramref name="tokens"/> is stored and where each layer sits in the
    /// shards, or null when any row or layer is not in the cache.</summary>
    (long[] Ids, (int Shard, int Row)[] Locations, int[] Positions)? Find(Tensor tokens, IReadOnlyList<int> layers)
    {
        if (tokens.dim() != 2 || tokens.shape[1] != Index.SequenceLength || tokens.dtype != ScalarType.Int64) return null;
        var positions = layers.Select(l => Array.IndexOf(Index.Layers, l)).ToArray();
        if (positions.Any(p => p < 0)) return null;
        using var cpu = tokens.cpu().contiguous();
        var ids = cpu.data<long>().ToArray();
        int t = (int)tokens.shape[1];
        rows ??= Rows();
        var locations = new (int Shard, int Row)[tokens.shape[0]];
        for (int b = 0; b < locations.Length; b++)
            if (!rows.TryGetValue(SequenceHash.Of(ids.AsSpan(b * t, t)), out locations[b])) return null;
        return (ids, locations, positions);
    }

    /// <summary>Every stored row by the hash of its ids (a repeated sequence keeps its first row: the
    /// same ids give the same block outputs). Reads the token ids of every shard once.</summary>
    Dictionary<ulong, (int Shard, int Row)> Rows()
    {
        var map = new Dictionary<ulong, (int, int)>();
        for (int s = 0; s < Index.Shards.Count; s++)
        {
            var sequences = Shard(s).Sequences();
            for (int r = 0; r < sequences.Count; r++) map.TryAdd(SequenceHash.Of(sequences[r].Ids), (s, r));
        }
        return map;
    }

    CacheShardFile Shard(int i)
    {
        if (open.TryGetValue(i, out var file)) return file;
        file = CacheShardFile.Open(Folder, Index, Index.Shards[i]);
        open[i] = file;
        opened.Enqueue(i);
        if (opened.Count > OpenShards && open.Remove(opened.Dequeue(), out var oldest)) oldest.Dispose();
        return file;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (gate)
        {
            foreach (var file in open.Values) file.Dispose();
            open.Clear();
            opened.Clear();
        }
    }
}

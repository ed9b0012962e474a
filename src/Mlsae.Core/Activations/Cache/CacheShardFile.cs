using System.Text.Json;
using Mlsae.Data;
using Mlsae.IO;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Activations.Cache;

/// <summary>
/// One shard of a cache opened for reading, checked against its index entry before anything is
/// read: the file's size, the three tensors' names, dtypes and shapes, and the positions in its
/// metadata. Reads a sequence's vectors of one layer at a time, so a batch costs what it holds.
/// </summary>
sealed class CacheShardFile : IDisposable
{
    /// <summary>The shard's vectors. // [L, S, T, D] storage dtype</summary>
    public const string Hidden = "hidden";
    /// <summary>The shard's token ids. // [S, T] int64</summary>
    public const string TokenIds = "tokens";
    /// <summary>Each sequence's index in the unsharded stream. // [S] int64</summary>
    public const string Indices = "indices";
    /// <summary>Metadata key: a JSON array of each sequence's stream position after it.</summary>
    public const string PositionsKey = "positions";

    readonly SafeTensorsFile file;
    readonly long rowElements;    // T · D

    public CacheShard Entry { get; }
    public string Path => file.Path;

    CacheShardFile(SafeTensorsFile file, CacheShard entry, long rowElements)
    {
        this.file = file;
        Entry = entry;
        this.rowElements = rowElements;
    }

    /// <summary>Opens shard <paramref name="entry"/> of the cache in <paramref name="folder"/>.</summary>
    public static CacheShardFile Open(string folder, ActivationCacheIndex index, CacheShard entry)
    {
        var path = System.IO.Path.Combine(folder, entry.File);
        if (!File.Exists(path)) throw new MlsaeException($"{path}: shard file missing (the index lists it)");
        long size = new FileInfo(path).Length;
        if (size != entry.Bytes) throw new MlsaeException($"{path}: {size:N0} bytes, but the index records {entry.Bytes:N0} (truncated or replaced)");
        var opened = SafeTensorsFile.Open(path);
        try
        {
            long s = entry.Sequences, t = index.SequenceLength!.Value;
            Expect(opened, Hidden, DTypes.Parse(index.StorageDType), [index.Layers.Length, s, t, index.HiddenSize]);
            Expect(opened, TokenIds, ScalarType.Int64, [s, t]);
            Expect(opened, Indices, ScalarType.Int64, [s]);
            return new CacheShardFile(opened, entry, t * index.HiddenSize);
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    static void Expect(SafeTensorsFile file, string name, ScalarType type, long[] shape)
    {
        if (!file.Entries.TryGetValue(name, out var e)) throw new MlsaeException($"{file.Path}: no tensor '{name}' (not a cache shard?)");
        if (e.Type != type || !e.Shape.SequenceEqual(shape))
            throw new MlsaeException($"{file.Path}: tensor '{name}' is {e.Code} {Shapes.Format(e.Shape)}, the index expects {DTypes.Name(type)} {Shapes.Format(shape)}");
    }

    /// <summary>The shard's sequences as packed, with their stream indices and positions.</summary>
    public IReadOnlyList<PackedSequence> Sequences()
    {
        using var tokens = file.Read(TokenIds);                                          // [S, T]
        using var indices = file.Read(Indices);                                          // [S]
        var ids = tokens.data<long>().ToArray();
        var index = indices.data<long>().ToArray();
        var positions = Positions();
        int t = (int)tokens.shape[1];
        var sequences = new PackedSequence[index.Length];
        for (int i = 0; i < sequences.Length; i++)
        {
            if (i > 0 && index[i] <= index[i - 1]) throw new MlsaeException($"{Path}: sequence indices are not increasing at row {i}");
            sequences[i] = new PackedSequence(ids.AsSpan(i * t, t).ToArray(), index[i], positions[i]);
        }
        if (sequences.Length > 0 && (index[0] != Entry.FirstSequence || index[^1] != Entry.LastSequence))
            throw new MlsaeException($"{Path}: holds sequences {index[0]}..{index[^1]}, the index records {Entry.FirstSequence}..{Entry.LastSequence}");
        return sequences;
    }

    DataPosition[] Positions()
    {
        if (!file.Metadata.TryGetValue(PositionsKey, out var json)) throw new MlsaeException($"{Path}: no '{PositionsKey}' in its metadata (not a cache shard?)");
        string[]? items;
        try { items = JsonSerializer.Deserialize<JsonElement[]>(json)?.Select(e => e.GetRawText()).ToArray(); }
        catch (JsonException e) { throw MlsaeException.From($"{Path}: corrupt '{PositionsKey}' metadata", e); }
        if (items is null || items.Length != Entry.Sequences) throw new MlsaeException($"{Path}: '{PositionsKey}' holds {items?.Length ?? 0} positions for {Entry.Sequences} sequences");
        return items.Select(p => DataPosition.FromJson(p, Path)).ToArray();
    }

    /// <summary>The token ids of row <paramref name="row"/>. // [T]</summary>
    public long[] TokensOf(int row)
    {
        long t = rowElements / file.Shape(Hidden)[3];
        using var ids = empty([t], ScalarType.Int64);
        file.ReadInto(TokenIds, row * t, ids);
        return ids.data<long>().ToArray();
    }

    /// <summary>Reads the vectors of row <paramref name="row"/> at layer position <paramref name="layer"/>
    /// (its place in the index's layers) into <paramref name="destination"/>. // [T, D] storage dtype</summary>
    public void ReadRow(int layer, int row, Tensor destination) =>
        file.ReadInto(Hidden, ((long)layer * Entry.Sequences + row) * rowElements, destination);

    public void Dispose() => file.Dispose();
}

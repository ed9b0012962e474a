using Mlsae.Activations.Cache;
using Mlsae.Data;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Tests.Activations.Cache;

/// <summary>Caches written through the library from sequences held in memory, on the embedded model
/// (trained weights, a tokenizer whose ids 0 and 1 are special).</summary>
static class CacheFixture
{
    public static string EmbeddedFolder => Path.Combine(Fixtures.RepoRoot, "embedded", "model");

    public static ModelSession Open(string? layers = null) =>
        ModelSession.Open(EmbeddedFolder, "main", layers, CPU, ScalarType.Float32, skipSpecialTokens: true, () => throw new InvalidOperationException("no hub in this test"));

    /// <summary><paramref name="count"/> sequences of <paramref name="length"/> ids, every third one
    /// opening with the special id 0 and holding the special id 1.</summary>
    public static List<long[]> Sequences(int count, int length = 12, int seed = 0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var ids = Enumerable.Range(0, length).Select(_ => (long)rng.Next(2, 1000)).ToArray();
            if (i % 3 == 0) { ids[0] = 0; ids[length / 2] = 1; }
            return ids;
        }).ToList();
    }

    /// <summary>The sequences as a batch source whose positions are stream indices (what the writer resumes from).</summary>
    public static BatchSource Source(IReadOnlyList<long[]> sequences, int batchSize) =>
        new(new DataSource("in-memory"), new DocumentOptions(), sequences[0].Length, batchSize, Shard.All, () => throw new InvalidOperationException("no tokenizer"),
            start => sequences.Select((s, i) => new PackedSequence(s, i, new DataPosition { Sequence = i + 1L })).Skip(checked((int)(start?.Sequence ?? 0))));

    public static ActivationCacheIndex Settings(ModelSession session, int length, int batchSize, int perShard, long maxTokens, string storage = "float32") => new()
    {
        Model = ActivationCache.Normalize(session.Name), ModelFingerprint = ModelFingerprint.Of(session.Folder), ModelDType = DTypes.Name(session.Model.DType),
        HiddenSize = session.Model.Config.HiddenSize, Layers = session.Layers, MaxLength = length, BatchSize = batchSize, MaxTokens = maxTokens,
        Data = new CachedData { Data = "in-memory" }, SpecialTokenIds = session.Model.SpecialTokens.Ids.ToArray(), StorageDType = storage, SequencesPerShard = perShard,
    };

    /// <summary>Writes all of <paramref name="sequences"/> into a new cache folder.</summary>
    public static string Write(ModelSession session, IReadOnlyList<long[]> sequences, int batchSize, int perShard, string storage = "float32", string? folder = null)
    {
        folder ??= Path.Combine(Fixtures.TempDir(), "cache");
        ActivationCacheWriter.Write(folder, Settings(session, sequences[0].Length, batchSize, perShard, sequences.Count * (long)sequences[0].Length, storage),
            session.Model, Source(sequences, batchSize), RunObserver.Silent);
        return folder;
    }
}

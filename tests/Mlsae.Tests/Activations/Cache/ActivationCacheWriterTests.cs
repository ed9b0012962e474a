using Mlsae.Activations.Cache;
using Mlsae.Runs;
using Xunit;

namespace Mlsae.Tests.Activations.Cache;

/// <summary>The writer resumes a killed write into the files of an uninterrupted one, refuses other
/// settings, and a damaged shard is a one-line error naming its file.</summary>
public class ActivationCacheWriterTests
{
    /// <summary>An observer whose progress callback throws once <paramref name="limit"/> tokens are
    /// done: the process dying between two batches.</summary>
    sealed class KilledAfter(long limit) : IRunObserver
    {
        public T Progress<T>(string title, long total, string unit, Func<Action<long>, T> work, Func<string>? status = null) =>
            work(done => { if (done >= limit) throw new OperationCanceledException("killed"); });
        public void Notice(string line) { }
    }

    static Dictionary<string, byte[]> Files(string folder) =>
        Directory.EnumerateFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.')).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Fact]
    public void AWriteKilledAfterSomeShardsResumesIntoTheSameFilesAsAnUninterruptedOne()
    {
        using var session = CacheFixture.Open("0,2");
        var sequences = CacheFixture.Sequences(11);
        var straight = CacheFixture.Write(session, sequences, batchSize: 2, perShard: 4);

        var resumed = Path.Combine(Fixtures.TempDir(), "cache");
        var settings = CacheFixture.Settings(session, 12, 2, 4, 11 * 12L);
        // Killed after the 5th batch (10 sequences): shards 0 and 1 written, the batch of shard 2 lost.
        Assert.Throws<OperationCanceledException>(() => ActivationCacheWriter.Write(resumed, settings, session.Model, CacheFixture.Source(sequences, 2), new KilledAfter(5 * 24)));
        var partial = ActivationCacheIndex.Load(resumed);
        Assert.False(partial.Completed);
        Assert.Equal(2, partial.Shards.Count);
        var index = ActivationCacheWriter.Write(resumed, settings, session.Model, CacheFixture.Source(sequences, 2), RunObserver.Silent);
        Assert.True(index.Completed);
        Assert.Equal(11, index.Sequences);
        Assert.Equal([4, 4, 3], index.Shards.Select(s => s.Sequences));

        var a = Files(straight);
        var b = Files(resumed);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, bytes) in a) Assert.True(bytes.AsSpan().SequenceEqual(b[name]), name);

        // A finished cache is left as it is; other settings are refused, naming the first that differs.
        ActivationCacheWriter.Write(resumed, settings, session.Model, CacheFixture.Source(sequences, 2), RunObserver.Silent);
        Assert.True(File.ReadAllBytes(ActivationCacheIndex.PathIn(resumed)).AsSpan().SequenceEqual(a[ActivationCacheIndex.FileName]));
        var e = Assert.Throws<MlsaeException>(() => ActivationCacheWriter.Write(resumed, settings with { StorageDType = "bfloat16" }, session.Model,
            CacheFixture.Source(sequences, 2), RunObserver.Silent));
        Assert.Contains("storage_dtype (cache: \"float32\", asked: \"bfloat16\")", e.Message);
    }

    [Fact]
    public void ATruncatedOrCorruptShardIsAnErrorNamingTheFile()
    {
        using var session = CacheFixture.Open("1");
        var folder = CacheFixture.Write(session, CacheFixture.Sequences(4), batchSize: 2, perShard: 2);
        var shard = Path.Combine(folder, "shard-00001.safetensors");
        var bytes = File.ReadAllBytes(shard);

        File.WriteAllBytes(shard, bytes[..(bytes.Length - 100)]);
        var truncated = Assert.Throws<MlsaeException>(() => ActivationCache.Open(folder));
        Assert.Contains(shard, truncated.Message);
        Assert.Contains("truncated", truncated.Message);

        var corrupt = (byte[])bytes.Clone();
        corrupt[12] = (byte)'#';                                        // inside the JSON header
        File.WriteAllBytes(shard, corrupt);
        using var cache = ActivationCache.Open(folder);                 // sizes agree: found when the shard is read
        var error = Assert.Throws<MlsaeException>(() => cache.Sequences(null).ToList());
        Assert.Contains(shard, error.Message);
        Assert.DoesNotContain("\n", error.Message);

        File.WriteAllText(ActivationCacheIndex.PathIn(folder), "{\"format_version\": 1, \"model\": ");
        var index = Assert.Throws<MlsaeException>(() => ActivationCache.Open(folder));
        Assert.Contains(ActivationCacheIndex.PathIn(folder), index.Message);
    }
}

using Mlsae.Activations.Cache;
using Mlsae.Data;
using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Activations.Cache;

/// <summary>A residual stream reading a cache returns what it returns from the model, bit for bit
/// (float32 storage), with the hook and the special-token zeroing applied in the hook's order.</summary>
public class ActivationCacheStreamTests
{
    /// <summary>h ↦ (l+1)·h + l + 1 at model layer l: a bias, so the order of hook and zeroing shows.</summary>
    sealed class AffineHook(bool zeroFirst) : IResidualHook
    {
        public Tensor In(Tensor hidden, int layer) => hidden * (layer + 1) + (layer + 1);
        public Tensor Out(Tensor translated, int layer) => (translated - (layer + 1)) / (layer + 1);
        public bool ZeroSpecialFirst => zeroFirst;
    }

    static void AssertSame(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(ScalarType.Float32, actual.dtype);
        Assert.True(expected.eq(actual).all().item<bool>(), $"{what}: max |diff| {(expected - actual).abs().max().item<float>()}");
    }

    [Fact]
    public void ForwardAndForwardBothFromTheCacheEqualTheModelsWithAndWithoutAHook()
    {
        using var scope = NewDisposeScope();
        using var session = CacheFixture.Open();
        var sequences = CacheFixture.Sequences(6);
        using var cache = ActivationCache.Open(CacheFixture.Write(session, sequences, batchSize: 2, perShard: 4));
        int[] layers = [4, 1, 5];                                        // a subset, in another order than the cache's
        foreach (var hook in new IResidualHook?[] { null, new AffineHook(zeroFirst: false), new AffineHook(zeroFirst: true) })
        {
            var model = new ResidualStream(session.Model, layers, session.Model.SpecialTokens, hook);
            var cached = new ResidualStream(session.Model, layers, session.Model.SpecialTokens, hook, cache);
            foreach (var batch in sequences.Chunk(2))
            {
                var tokens = model.Tokens(batch);
                AssertSame(model.Forward(tokens), cached.Forward(tokens), $"Forward, hook {hook?.ZeroSpecialFirst}");
                var a = model.ForwardBoth(tokens);
                var b = cached.ForwardBoth(tokens);
                AssertSame(a.Inputs, b.Inputs, "ForwardBoth inputs");
                AssertSame(a.Hidden, b.Hidden, "ForwardBoth hidden");
            }
        }
        Assert.Equal(3 * 3 * 2, cache.BatchesRead);
        Assert.Equal(0, cache.BatchesMissed);
    }

    [Fact]
    public void ABatchWithARowTheCacheLacksRunsTheModel()
    {
        using var scope = NewDisposeScope();
        using var session = CacheFixture.Open("0,3");
        var sequences = CacheFixture.Sequences(4);
        using var cache = ActivationCache.Open(CacheFixture.Write(session, sequences, batchSize: 2, perShard: 2));
        var model = session.Stream;
        var cached = new ResidualStream(session.Model, session.Layers, session.Special, null, cache);
        var other = CacheFixture.Sequences(1, seed: 9)[0];
        var tokens = model.Tokens([sequences[0], other]);
        AssertSame(model.Forward(tokens), cached.Forward(tokens), "mixed batch");
        Assert.Equal(1, cache.BatchesMissed);
        // A layer the cache does not hold also runs the model.
        var deeper = new ResidualStream(session.Model, [2], session.Special, null, cache);
        AssertSame(new ResidualStream(session.Model, [2], session.Special).Forward(model.Tokens(sequences[..2])), deeper.Forward(model.Tokens(sequences[..2])), "layer 2");
        Assert.Equal(2, cache.BatchesMissed);
        Assert.Equal(0, cache.BatchesRead);
    }

    [Fact]
    public void Float16StorageReadsTheModelsVectorsRoundedToFloat16()
    {
        using var scope = NewDisposeScope();
        using var session = CacheFixture.Open();
        var sequences = CacheFixture.Sequences(4);
        using var cache = ActivationCache.Open(CacheFixture.Write(session, sequences, batchSize: 2, perShard: 2, storage: "float16"));
        var cached = new ResidualStream(session.Model, session.Layers, null, null, cache);
        var tokens = session.Stream.Tokens(sequences[2..]);
        var exact = session.Model.Forward(tokens, session.Layers).HiddenStates;          // [L, B, T, D]
        var read = cached.Forward(tokens);
        AssertSame(exact.to(ScalarType.Float16).to(ScalarType.Float32), read, "float16 storage");
        Assert.False(exact.eq(read).all().item<bool>(), "float16 storage should round some values");
        Assert.Equal(1, cache.BatchesRead);
    }

    [Fact]
    public void SequencesSeekToAPositionWithoutOpeningEarlierShardsAndKeepTheirIndicesAndPositions()
    {
        using var session = CacheFixture.Open("1");
        var sequences = CacheFixture.Sequences(10);
        var folder = CacheFixture.Write(session, sequences, batchSize: 2, perShard: 2);
        using var cache = ActivationCache.Open(folder);
        Assert.Equal(5, cache.Index.Shards.Count);
        var original = CacheFixture.Source(sequences, 2).Batches().ToList();
        var read = cache.Source(2, Shard.All, () => throw new InvalidOperationException()).Batches().ToList();
        Assert.Equal(original.Select(b => b.Next), read.Select(b => b.Next));
        Assert.Equal(original.SelectMany(b => b.Indices), read.SelectMany(b => b.Indices));
        Assert.True(original.SelectMany(b => b.Sequences).Zip(read.SelectMany(b => b.Sequences)).All(p => p.First.SequenceEqual(p.Second)));

        File.Delete(Path.Combine(folder, "shard-00000.safetensors"));
        File.Delete(Path.Combine(folder, "shard-00001.safetensors"));
        var resumed = cache.Source(2, Shard.All, () => throw new InvalidOperationException()).Batches(original[1].Next).ToList();
        Assert.Equal(original.Skip(2).SelectMany(b => b.Indices), resumed.SelectMany(b => b.Indices));
        // Another shard rule keeps its part of the original stream.
        var odd = cache.Source(3, new Shard(1, 2), () => throw new InvalidOperationException()).Sequences(new DataPosition { Sequence = 4 }).Select(s => s.Index);
        Assert.Equal([5L, 7, 9], odd);
    }
}

using Mlsae.Analysis;
using Mlsae.Distributed;
using Mlsae.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Distributed;

/// <summary>The exact sum of dists over ranks, in one process: two ranks that hold the same dists
/// must sum to what merging the dists with themselves gives, 128-bit totals (negative ones, carries
/// between the 32-bit limbs) included.</summary>
public sealed class DistsReductionTests
{
    /// <summary>Two ranks that hold the same values: a sum doubles them.</summary>
    sealed class TwinRanks : IDataParallel
    {
        public int Rank => 0;
        public int Size => 2;
        public void SumInPlace(Tensor tensor) => tensor.mul_(2);
        public void Broadcast(Tensor tensor, int root = 0) { }
    }

    [Fact]
    public void TwinRanks_SumToTheMergeOfTheDistsWithThemselves()
    {
        const int layers = 2, latents = 5;
        var dists = new LayerDists(layers, latents);
        var copy = new LayerDists(layers, latents);
        var generator = new Random(7);
        for (int batch = 0; batch < 3; batch++)
        {
            // [L, B, T, K] raw TopK values of both signs and magnitudes that fill the fixed point's high limbs.
            var values = Enumerable.Range(0, layers * 2 * 3 * 2).Select(_ => (float)((generator.NextDouble() - 0.5) * Math.Pow(10, generator.Next(-3, 6)))).ToArray();
            var indices = Enumerable.Range(0, values.Length).Select(_ => (long)generator.Next(latents)).ToArray();
            using var v = tensor(values).reshape(layers, 2, 3, 2);
            using var i = tensor(indices).reshape(layers, 2, 3, 2);
            dists.Add(v, i);
            copy.Add(v, i);
        }
        var merged = new LayerDists(layers, latents);
        merged.Merge(copy);
        merged.Merge(copy);
        DistsReduction.SumOverRanks(dists, new TwinRanks());
        Assert.Equal(merged.Tokens, dists.Tokens);
        var (c1, t1, d1) = merged.Cells;
        var (c2, t2, d2) = dists.Cells;
        Assert.Equal(c1, c2);
        Assert.Equal(t1, t2);
        Assert.Equal(d1, d2);
        Assert.Contains(t1, t => t < 0);
    }
}

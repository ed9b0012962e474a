using Mlsae.Autoencoder;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

/// <summary>The CPU partial selection on hand-made rows: ties, NaN, infinities, and a sample floor set too high.</summary>
public class SelectionHeapTests
{
    static (float[] Values, long[] Indices) Select(Tensor rows, int keep, Tensor? mask = null, Tensor? list = null)
    {
        long n = rows.shape[0];
        var values = full([n, keep], float.MinValue);
        var indices = full([n, keep], -1L, ScalarType.Int64);
        RowSelection.Select(rows, keep, mask, list, values, indices);
        // The kernel writes in no particular order: sort by index to compare.
        var (sorted, order) = indices.sort(-1);
        return (values.gather(-1, order).data<float>().ToArray(), sorted.data<long>().ToArray());
    }

    [Fact]
    public void TiesGoToTheLowerColumnAndNanRanksFirst()
    {
        using var scope = NewDisposeScope();
        var rows = tensor(new float[]
        {
            1, 3, 3, 2, 3, 0, 3, -1,                                                     // four 3s: columns 1, 2, 4 win
            float.NaN, 0, 5, float.PositiveInfinity, float.NegativeInfinity, 4, -0f, 0f, // NaN, +inf, 5
            -2, -2, -2, -2, -2, -2, -2, -2,                                              // all tied: columns 0, 1, 2
        }).reshape(3, 8);
        var (values, indices) = Select(rows, 3);
        Assert.Equal(new long[] { 1, 2, 4, 0, 2, 3, 0, 1, 2 }, indices);
        Assert.True(float.IsNaN(values[3]));
        Assert.Equal(new float[] { 3, 3, 3 }, values[..3]);
        Assert.Equal(new float[] { 5, float.PositiveInfinity }, values[4..6]);
        // Wide rows of one value take the vector path (and a sample floor no value clears).
        var (_, tied) = Select(full([2, 4096], 0.5f), 64);
        Assert.Equal(Enumerable.Range(0, 64).Select(i => (long)i).Concat(Enumerable.Range(0, 64).Select(i => (long)i)).ToArray(), tied);
    }

    [Fact]
    public void MaskAndListOfferOnlyTheirColumns()
    {
        using var scope = NewDisposeScope();
        var rows = arange(40, dtype: ScalarType.Float32).reshape(1, 40);             // column c holds c
        var keep = (arange(40) % 4).eq(1);                                            // 1, 5, …, 37
        var (_, masked) = Select(rows, 3, mask: keep.to(ScalarType.Int32).neg());
        Assert.Equal(new long[] { 29, 33, 37 }, masked);
        var (_, listed) = Select(rows, 3, list: keep.nonzero().squeeze(1).to(ScalarType.Int32));
        Assert.Equal(new long[] { 29, 33, 37 }, listed);
        // Fewer candidates than slots: the rest stay as the caller filled them.
        var (values, few) = Select(rows, 3, list: tensor(new[] { 4, 9 }));
        Assert.Equal(new long[] { -1, 4, 9 }, few);
        Assert.Equal(float.MinValue, values[0]);
    }

    [Fact]
    public void ASampleFloorAboveTheKthValueFallsBackToTheFullScan()
    {
        using var scope = NewDisposeScope();
        // Every 16th column (the sampled ones) is huge, the rest small: the sample's j-th largest lies
        // above the row's K-th value, fewer than K values clear it, and the kernel scans again.
        int width = 4096, keep = 64;
        var row = Enumerable.Range(0, width).Select(c => c % 16 == 0 ? 1000f + c : (float)c / width).ToArray();
        var rows = tensor(row).reshape(1, width);
        var (_, expected) = rows.topk(keep, dim: -1);
        var (_, indices) = Select(rows, keep);
        Assert.Equal(expected.sort(-1).Values.data<long>().ToArray(), indices);
    }

    [Fact]
    public void RandomRowsMatchTorchTopK()
    {
        using var scope = NewDisposeScope();
        var rows = randn([64, 3000], generator: new Generator(5));
        foreach (int keep in new[] { 1, 7, 32, 256, 3000 })
        {
            var (expectedValues, expected) = rows.topk(keep, dim: -1);
            var (order, sorted) = (expected.sort(-1).Indices, expected.sort(-1).Values);
            var (values, indices) = Select(rows, keep);
            Assert.Equal(sorted.data<long>().ToArray(), indices);
            Assert.Equal(expectedValues.gather(-1, order).data<float>().ToArray(), values);
        }
    }
}

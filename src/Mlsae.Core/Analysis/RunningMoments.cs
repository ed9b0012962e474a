using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>Streaming mean and unbiased variance (Welford, batched as the reference's
/// <c>VarianceMetric</c>), in float64. // rows [N, ...size]</summary>
public sealed class RunningMoments(long[] size)
{
    long count;
    readonly double[] mean = new double[size.Aggregate(1L, (a, b) => a * b)];
    readonly double[] squared = new double[size.Aggregate(1L, (a, b) => a * b)];

    /// <summary>Adds rows. // [N, ...size]</summary>
    public void Update(Tensor x)
    {
        using var scope = NewDisposeScope();
        var rows = x.to(ScalarType.Float64).cpu().reshape(x.shape[0], -1);
        long n = rows.shape[0];
        if (n == 0) return;
        count += n;
        var m = tensor(mean);
        var delta1 = rows - m;
        var updated = m + delta1.sum(0, keepdim: false) / count;
        var delta2 = rows - updated;
        var sq = tensor(squared) + (delta1 * delta2).sum(0, keepdim: false);
        updated.data<double>().ToArray().CopyTo(mean, 0);
        sq.data<double>().ToArray().CopyTo(squared, 0);
    }

    /// <summary>Rows seen.</summary>
    public long Count => count;
    /// <summary>The mean.</summary>
    public double[] Mean => (double[])mean.Clone();
    /// <summary>The unbiased variance.</summary>
    public double[] Var => squared.Select(s => s / (count - 1)).ToArray();
    /// <summary>The std.</summary>
    public double[] Std => Var.Select(Math.Sqrt).ToArray();
    /// <summary>std / √count.</summary>
    public double[] Sem => Std.Select(s => s / Math.Sqrt(count)).ToArray();
}

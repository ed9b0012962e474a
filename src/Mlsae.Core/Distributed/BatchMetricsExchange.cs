using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Distributed;

/// <summary>
/// Gives every rank the training metrics of all the micro-batches of a step, in the order one
/// process would have computed them, so the logging window (and the state that saves it) is the
/// same whatever the number of ranks. Each rank writes its micro-batches' rows into a zeroed
/// table, and a sum over the ranks fills it: every row has exactly one author, so the sum is exact.
/// </summary>
public static class BatchMetricsExchange
{
    /// <summary>The metrics of slots 0 … <paramref name="slots"/> − 1 of the step, from
    /// <paramref name="own"/> (this rank's, by slot) and the other ranks'.</summary>
    public static IReadOnlyList<BatchMetrics> AllInOrder(IDataParallel parallel, IReadOnlyList<(int Slot, BatchMetrics Metrics)> own, int slots)
    {
        if (parallel.Size == 1) return own.OrderBy(o => o.Slot).Select(o => o.Metrics).ToList();
        int layers = own.Count > 0 ? own[0].Metrics.Fvu.Length : 0;
        layers = (int)MaxOverRanks(parallel, layers);   // a rank may have no micro-batch in the last, short step
        int columns = 6 + 4 * layers;   // loss, mse, auxk, dead/abs, dead/rel, a "present" flag; then fvu, l0, l1, mse per layer
        var table = new double[slots * columns];
        foreach (var (slot, m) in own)
        {
            var row = table.AsSpan(slot * columns, columns);
            (row[0], row[1], row[2], row[3], row[4], row[5]) = (m.Loss, m.Mse, m.AuxK, m.DeadAbs, m.DeadRel, 1);
            m.Fvu.CopyTo(row[6..]); m.L0.CopyTo(row[(6 + layers)..]); m.L1.CopyTo(row[(6 + 2 * layers)..]); m.LayerMse.CopyTo(row[(6 + 3 * layers)..]);
        }
        using var all = tensor(table);
        parallel.SumInPlace(all);
        var sums = all.data<double>().ToArray();
        var result = new List<BatchMetrics>(slots);
        for (int s = 0; s < slots; s++)
        {
            var row = sums.AsSpan(s * columns, columns);
            if (row[5] != 1) throw new InvalidOperationException($"micro-batch {s} of the step was trained by {row[5]} ranks, not one");
            int start = s * columns + 6;
            double[] Part(int i) => sums.AsSpan(start + i * layers, layers).ToArray();
            result.Add(new BatchMetrics(row[0], row[1], row[2], Part(0), Part(1), Part(2), Part(3), row[3], row[4]));
        }
        return result;
    }

    static long MaxOverRanks(IDataParallel parallel, long value)
    {
        // max(v) over ranks through sums: every rank's value in its own slot.
        var slots = new long[parallel.Size];
        slots[parallel.Rank] = value;
        using var t = tensor(slots);
        parallel.SumInPlace(t);
        return t.data<long>().ToArray().Max();
    }
}

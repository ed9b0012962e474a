using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Distributed;

/// <summary>
/// Every rank's int64 record on every rank, in rank order: the lengths are summed first, then each
/// rank's record is broadcast from it. Doubles and floats travel as their bit patterns, so what
/// arrives is exactly what was sent; the analyses that need per-batch values in the one process's
/// order (eval, variances) or whole records (examples) gather with this.
/// </summary>
public static class RankGather
{
    /// <summary>The records of ranks 0 … N−1 (this rank's own array at its index).</summary>
    public static IReadOnlyList<long[]> All(IDataParallel parallel, long[] mine)
    {
        if (parallel.Size == 1) return [mine];
        var counts = new long[parallel.Size];
        counts[parallel.Rank] = mine.Length;
        using (var lengths = tensor(counts))
        {
            parallel.SumInPlace(lengths);
            lengths.data<long>().ToArray().CopyTo(counts, 0);
        }
        var records = new List<long[]>(parallel.Size);
        for (int root = 0; root < parallel.Size; root++)
        {
            if (counts[root] == 0) { records.Add([]); continue; }
            using var buffer = root == parallel.Rank ? tensor(mine) : zeros(counts[root], ScalarType.Int64);
            parallel.Broadcast(buffer, root);
            records.Add(root == parallel.Rank ? mine : buffer.data<long>().ToArray());
        }
        return records;
    }

    /// <summary>Per-batch rows of doubles from every rank, in global batch order: each rank holds the
    /// rows of the batches it took (<paramref name="indices"/>, global batch indices), and every rank
    /// ends with all rows ordered by index, so averaging them gives the one process's sums bit for bit.</summary>
    public static IReadOnlyList<double[]> BatchRows(IDataParallel parallel, IReadOnlyList<long> indices, IReadOnlyList<double[]> rows)
    {
        if (indices.Count != rows.Count) throw new ArgumentException("one index per row");
        var packed = new List<long>();
        for (int i = 0; i < rows.Count; i++)
        {
            packed.Add(indices[i]);
            packed.Add(rows[i].Length);
            foreach (var v in rows[i]) packed.Add(BitConverter.DoubleToInt64Bits(v));
        }
        var all = new List<(long Index, double[] Row)>();
        foreach (var record in All(parallel, [.. packed]))
            for (int at = 0; at < record.Length;)
            {
                long index = record[at];
                var row = new double[record[at + 1]];
                for (int j = 0; j < row.Length; j++) row[j] = BitConverter.Int64BitsToDouble(record[at + 2 + j]);
                all.Add((index, row));
                at += 2 + row.Length;
            }
        return all.OrderBy(r => r.Index).Select(r => r.Row).ToList();
    }

    /// <summary>The element-wise sum of <paramref name="values"/> over the ranks, in place (int64: exact).</summary>
    public static void Sum(IDataParallel parallel, long[] values)
    {
        if (parallel.Size == 1) return;
        using var t = tensor(values);
        parallel.SumInPlace(t);
        t.data<long>().ToArray().CopyTo(values, 0);
    }
}

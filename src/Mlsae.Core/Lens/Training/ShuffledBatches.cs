using Mlsae.Data;

namespace Mlsae.Lens.Training;

/// <summary>Where a shuffled batch stream stands: the stream position where the current window of
/// batches starts, the window's index (part of its shuffle seed), and its batches already used.</summary>
public sealed record WindowCursor(DataPosition? Start, long Window, int Used);

/// <summary>
/// Full batches of a stream in a seeded order: the stream is read in windows of
/// <c>windowBatches</c> batches and each window is permuted by a generator seeded from the seed and
/// the window index (the package shuffles its whole dataset with <c>--seed</c>; a stream cannot be).
/// A <see cref="WindowCursor"/> reopens it exactly: the window is re-read and re-permuted, and the
/// batches already used are skipped.
/// </summary>
public static class ShuffledBatches
{
    /// <summary>The batches from <paramref name="cursor"/>, each with the cursor after it. Batches
    /// smaller than <paramref name="batchSize"/> (a stream's tail) are dropped.</summary>
    public static IEnumerable<(TokenBatch Batch, WindowCursor Next)> Read(Func<DataPosition?, IEnumerable<TokenBatch>> open,
        WindowCursor cursor, int windowBatches, int batchSize, long seed)
    {
        using var stream = open(cursor.Start).Where(b => b.Size == batchSize).GetEnumerator();
        var (start, window, skip) = (cursor.Start, cursor.Window, cursor.Used);
        while (true)
        {
            var batches = new List<TokenBatch>(windowBatches);
            while (batches.Count < windowBatches && stream.MoveNext()) batches.Add(stream.Current);
            if (batches.Count == 0) yield break;
            var order = Enumerable.Range(0, batches.Count).ToArray();
            new Random(unchecked((int)(seed * 1_000_003 + window))).Shuffle(order);
            var after = batches[^1].Next;
            for (int j = skip; j < order.Length; j++)
                yield return (batches[order[j]], j + 1 == order.Length ? new WindowCursor(after, window + 1, 0) : new WindowCursor(start, window, j + 1));
            if (batches.Count < windowBatches) yield break;
            (start, window, skip) = (after, window + 1, 0);
        }
    }
}

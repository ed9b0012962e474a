using Mlsae.Analysis;
using Mlsae.Training;

namespace Mlsae.Distributed;

/// <summary>
/// Merges the max-activating examples of the ranks: each rank's kept examples travel whole (window
/// ids, activations as their float bits) and rank 0, which writes them, offers them to its heaps, so
/// it ends with the top-N of all the batches (the others only send theirs). The examples' order (larger activation, then the earlier
/// token in the stream) does not depend on which rank saw a token, so the merge is the one process's
/// result exactly, as <c>examples merge</c> over shards is.
/// </summary>
public static class ExamplesReduction
{
    /// <summary>On rank 0, adds every other rank's examples to <paramref name="examples"/>; on the others,
    /// takes part in the exchange and leaves <paramref name="examples"/> as it is.</summary>
    public static void GatherOverRanks(MaxActivatingExamples examples, IDataParallel parallel)
    {
        if (parallel.Size == 1) return;
        var records = RankGather.All(parallel, Pack(examples.All()));
        if (!parallel.Writes()) return;
        for (int r = 1; r < records.Count; r++) examples.Add(Unpack(records[r]));
    }

    // Per example: latent, layer, sequence, position, act bits, offset, n ids, ids…, act bits of the window….
    static long[] Pack(IEnumerable<MaxActivatingExamples.Example> examples)
    {
        var packed = new List<long>();
        foreach (var e in examples)
        {
            packed.AddRange([e.Latent, e.Layer, e.Sequence, e.Position, BitConverter.SingleToInt32Bits(e.Act), e.Offset, e.TokenIds.Length]);
            packed.AddRange(e.TokenIds);
            foreach (var a in e.Acts) packed.Add(BitConverter.SingleToInt32Bits(a));
        }
        return [.. packed];
    }

    static IEnumerable<MaxActivatingExamples.Example> Unpack(long[] record)
    {
        for (int at = 0; at < record.Length;)
        {
            int n = (int)record[at + 6];
            var ids = record[(at + 7)..(at + 7 + n)];
            var acts = new float[n];
            for (int j = 0; j < n; j++) acts[j] = BitConverter.Int32BitsToSingle((int)record[at + 7 + n + j]);
            yield return new MaxActivatingExamples.Example((int)record[at], (int)record[at + 1], record[at + 2], (int)record[at + 3],
                BitConverter.Int32BitsToSingle((int)record[at + 4]), ids, acts, (int)record[at + 5]);
            at += 7 + 2 * n;
        }
    }
}

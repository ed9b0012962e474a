namespace Mlsae.Activations.Cache;

/// <summary>A 64-bit hash of a sequence's token ids, for finding a batch's rows in a cache. Not
/// cryptographic: a match is confirmed by comparing the ids themselves.</summary>
static class SequenceHash
{
    /// <summary>The hash of <paramref name="ids"/>. // [T]</summary>
    public static ulong Of(ReadOnlySpan<long> ids)
    {
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)ids.Length;
        foreach (var id in ids) h = Mix(h ^ Mix((ulong)id));
        return h;
    }

    // SplitMix64's finalizer: every input bit moves every output bit.
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

using System.Numerics;
using System.Runtime.Intrinsics;

namespace Mlsae.Autoencoder;

/// <summary>
/// The k best (value, column) pairs seen so far in one row: a min-heap whose root is the pair the
/// next better one replaces. The order is <c>torch.topk</c>'s with ties made deterministic: larger
/// value first, NaN above every number, equal values (−0 = +0) by the lower column. Each pair is
/// one <c>ulong</c> key that orders that way, so a comparison is one integer compare. A scan offers
/// columns in increasing order, so an equal value never displaces a kept one and the vector fast
/// path need only flag elements that are not ≤ the root (greater, or NaN).
/// </summary>
sealed unsafe class SelectionHeap(int maxCapacity)
{
    readonly ulong[] keys = new ulong[maxCapacity];
    int capacity;

    /// <summary>The most pairs a <see cref="Reset"/> may ask it to keep.</summary>
    public int MaxCapacity => maxCapacity;

    /// <summary>Pairs held (at most the capacity of the last <see cref="Reset"/>).</summary>
    public int Count { get; private set; }

    /// <summary>Empties the heap and sets how many pairs it keeps.</summary>
    public void Reset(int keep)
    {
        if (keep > maxCapacity) throw new ArgumentOutOfRangeException(nameof(keep));
        capacity = keep;
        Count = 0;
    }

    /// <summary>The key of (value, column): the value's bits made order-preserving as an unsigned
    /// integer (NaN one quiet NaN above +∞, −0 as +0), then the column complemented so that the
    /// lower column is the larger key.</summary>
    static ulong Key(float value, int column)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) bits = 0x7FC00000;
        else if (bits == 0x80000000) bits = 0;
        uint ordered = (bits & 0x80000000) != 0 ? ~bits : bits | 0x80000000;
        return ((ulong)ordered << 32) | ~(uint)column;
    }

    static float ValueOf(ulong key)
    {
        uint ordered = (uint)(key >> 32);
        return BitConverter.UInt32BitsToSingle((ordered & 0x80000000) != 0 ? ordered & 0x7FFFFFFF : ~ordered);
    }

    static int ColumnOf(ulong key) => (int)~(uint)key;

    /// <summary>Keeps (value, column) if the heap is not full or it outranks the root.</summary>
    public void Offer(float value, int column) => OfferKey(Key(value, column));

    void OfferKey(ulong key)
    {
        var heap = keys;
        if (Count < capacity)
        {
            int i = Count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (heap[parent] <= key) break;
                heap[i] = heap[parent];
                i = parent;
            }
            heap[i] = key;
            return;
        }
        if (capacity == 0 || key <= heap[0]) return;
        SiftDown(key, Count);
    }

    /// <summary>Puts <paramref name="key"/> at the root and restores the heap over <c>[0, count)</c>.</summary>
    void SiftDown(ulong key, int count)
    {
        var heap = keys;
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= count) break;
            if (child + 1 < count && heap[child + 1] < heap[child]) child++;
            if (key <= heap[child]) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = key;
    }

    /// <summary>The value of the root (the worst pair kept); the heap must not be empty.</summary>
    public float Least => ValueOf(keys[0]);

    /// <summary>
    /// Offers every column of <paramref name="row"/> in <c>[0, width)</c>, or with
    /// <paramref name="mask"/> (−1 keeps a column, 0 skips it) only the kept ones. With
    /// <paramref name="floor"/>, only values above it (or NaN) are offered: the heap may then end
    /// with fewer pairs than it keeps, and the caller scans again without a floor.
    /// </summary>
    public void Scan<TElements>(void* row, long width, int* mask, float? floor) where TElements : IRowElements
    {
        long c = 0;
        if (floor is null)
        {
            // Fill scalar: the fast path needs a full heap's root as its threshold.
            for (; c < width && Count < capacity; c++)
                if (mask == null || mask[c] != 0) Offer(TElements.Load(row, c), (int)c);
            if (Count < capacity || capacity == 0) return;
        }
        float limit = floor ?? Least;
        if (Vector256.IsHardwareAccelerated)
        {
            var excluded = Vector256.Create(float.NegativeInfinity);
            for (; c + 8 <= width; c += 8)
            {
                var v = TElements.Load8(row, c);
                if (mask != null) v = Vector256.ConditionalSelect(Vector256.Load(mask + c).AsSingle(), v, excluded);
                uint flagged = ~Vector256.ExtractMostSignificantBits(Vector256.LessThanOrEqual(v, Vector256.Create(limit))) & 0xFF;
                while (flagged != 0)
                {
                    int lane = BitOperations.TrailingZeroCount(flagged);
                    flagged &= flagged - 1;
                    float x = v.GetElement(lane);
                    if (x <= limit) continue;
                    Offer(x, (int)(c + lane));
                    if (Count == capacity) limit = Least;
                }
            }
        }
        for (; c < width; c++)
        {
            if (mask != null && mask[c] == 0) continue;
            float x = TElements.Load(row, c);
            if (x <= limit) continue;
            Offer(x, (int)c);
            if (Count == capacity) limit = Least;
        }
    }

    /// <summary>Offers the listed columns of <paramref name="row"/> (few, so no vector pass); a
    /// <paramref name="floor"/> as in <see cref="Scan"/>.</summary>
    public void ScanList<TElements>(void* row, int* list, int count, float? floor) where TElements : IRowElements
    {
        if (floor is null)
        {
            for (int t = 0; t < count; t++) Offer(TElements.Load(row, list[t]), list[t]);
            return;
        }
        float limit = floor.Value;
        for (int t = 0; t < count; t++)
        {
            float x = TElements.Load(row, list[t]);
            if (x <= limit) continue;
            Offer(x, list[t]);
            if (Count == capacity) limit = Least;
        }
    }

    /// <summary>Replaces every kept value by the exact float32 dot product of <paramref name="u"/>
    /// with its column's encoder row, then keeps the best <paramref name="keep"/> under the same order.</summary>
    public void Rescore(float* u, float* weight, int d, int keep)
    {
        int count = Count;
        Count = 0;
        capacity = Math.Min(keep, count);
        Span<ulong> rescored = count <= 1024 ? stackalloc ulong[count] : new ulong[count];
        for (int i = 0; i < count; i++)
        {
            int column = ColumnOf(keys[i]);
            rescored[i] = Key(Dot(u, weight + (long)column * d, d), column);
        }
        foreach (var key in rescored) OfferKey(key);
    }

    /// <summary>Float32 dot product.</summary>
    public static float Dot(float* a, float* b, int d)
    {
        int i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && d >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i + 16 <= d; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
            }
            for (; i + 8 <= d; i += 8)
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < d; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Writes the kept pairs, in no particular order (as <c>topk(sorted=False)</c>), to
    /// <paramref name="outValues"/> and <paramref name="outIndices"/>; the heap is empty afterwards.</summary>
    public void Write(float* outValues, long* outIndices)
    {
        for (int i = 0; i < Count; i++)
        {
            outValues[i] = ValueOf(keys[i]);
            outIndices[i] = ColumnOf(keys[i]);
        }
        Count = 0;
    }
}

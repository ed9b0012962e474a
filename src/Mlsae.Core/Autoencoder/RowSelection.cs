using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// One chunk's selection on the CPU: for each row of pre-activations, the best <see cref="Keep"/>
/// (value, column) pairs over all columns, over the columns a mask keeps, or over a short list of
/// columns; optionally re-scored in float32 (<see cref="SelectionHeap.Rescore"/>) down to
/// <see cref="RescoreKeep"/>. Rows run in parallel on the torch thread count, each block with its
/// own heap. Output rows are <see cref="OutStride"/> apart; a row with fewer candidates than slots
/// leaves the remaining slots as they were (the caller pre-fills them).
/// </summary>
unsafe struct RowSelection
{
    /// <summary>Pre-activations of the chunk's first row. // [c, width] in <see cref="DType"/></summary>
    public void* Rows;
    /// <summary>float32 or bfloat16.</summary>
    public ScalarType DType;
    /// <summary>Columns per row.</summary>
    public long Width;
    /// <summary>Pairs kept per row before any rescoring.</summary>
    public int Keep;
    /// <summary>Per column −1 (offered) or 0 (skipped); null: every column, or <see cref="List"/>.</summary>
    public int* Mask;
    /// <summary>The columns offered, in increasing order, when not null (and <see cref="Mask"/> is null).</summary>
    public int* List;
    /// <summary>Length of <see cref="List"/>.</summary>
    public int ListCount;
    /// <summary>Maps a selected column before it is written (a compact column back to its latent); null: written as is.</summary>
    public int* ColumnMap;
    /// <summary>Output values of the chunk's first row.</summary>
    public float* OutValues;
    /// <summary>Output indices of the chunk's first row.</summary>
    public long* OutIndices;
    /// <summary>Distance between output rows, in elements.</summary>
    public int OutStride;
    /// <summary>float32 inputs of the chunk's first row, for rescoring; null: no rescoring. // [c, D]</summary>
    public float* Inputs;
    /// <summary>The float32 encoder. // [F, D]</summary>
    public float* Weight;
    /// <summary>D.</summary>
    public int D;
    /// <summary>Pairs kept after rescoring.</summary>
    public int RescoreKeep;

    /// <summary>Every <see cref="SampleStride"/>-th candidate column goes into the sample that sets a row's floor.</summary>
    const int SampleStride = 16;
    bool sampled;
    int sampleRank;

    /// <summary>Selects over whole tensors: <paramref name="rows"/> // [n, width] float32 or bfloat16
    /// into <paramref name="values"/> and <paramref name="indices"/> // [n, keep], over the columns
    /// <paramref name="mask"/> (int32, −1 kept) or <paramref name="list"/> (int32, increasing) name, if given.</summary>
    public static void Select(Tensor rows, int keep, Tensor? mask, Tensor? list, Tensor values, Tensor indices)
    {
        if (rows.dtype is not (ScalarType.Float32 or ScalarType.BFloat16)) throw new ArgumentException($"rows: float32 or bfloat16, got {rows.dtype}");
        Shapes.Check(values, "values", rows.shape[0], keep);
        Shapes.Check(indices, "indices", rows.shape[0], keep);
        new RowSelection
        {
            Rows = TensorMemory.Pointer(rows, rows.dtype, "rows"), DType = rows.dtype, Width = rows.shape[1], Keep = keep,
            Mask = mask is null ? null : TensorMemory.Ints(mask, "mask"),
            List = list is null ? null : TensorMemory.Ints(list, "list"), ListCount = list is null ? 0 : (int)list.shape[0],
            OutValues = TensorMemory.Floats(values, "values"), OutIndices = TensorMemory.Longs(indices, "indices"), OutStride = keep,
        }.Run((int)rows.shape[0]);
    }

    /// <summary>Selects every one of <paramref name="rowCount"/> rows.</summary>
    public readonly void Run(int rowCount)
    {
        var job = this;
        job.PlanSample();
        int threads = Math.Max(1, get_num_threads());
        int blocks = Math.Min(rowCount, threads * 4);
        int capacity = Keep;
        if (rowCount == 0 || capacity == 0) return;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
        {
            var heap = new SelectionHeap(capacity);
            var sample = new SelectionHeap(capacity);
            long start = (long)rowCount * b / blocks, end = (long)rowCount * (b + 1) / blocks;
            for (long r = start; r < end; r++) job.Row((int)r, heap, sample);
        });
    }

    readonly void Row(int r, SelectionHeap heap, SelectionHeap sample)
    {
        heap.Reset(Keep);
        if (DType == ScalarType.BFloat16) Offer<BFloat16Elements>((ushort*)Rows + r * Width, heap, sample);
        else Offer<Float32Elements>((float*)Rows + r * Width, heap, sample);
        if (Inputs != null) heap.Rescore(Inputs + (long)r * D, Weight, D, RescoreKeep);
        var values = OutValues + (long)r * OutStride;
        var indices = OutIndices + (long)r * OutStride;
        int count = heap.Count;
        heap.Write(values, indices);
        if (ColumnMap != null)
            for (int i = 0; i < count; i++) indices[i] = ColumnMap[indices[i]];
    }

    readonly void Offer<TElements>(void* row, SelectionHeap heap, SelectionHeap sample) where TElements : IRowElements
    {
        bool list = List != null && Mask == null;
        float? floor = sampled ? Floor<TElements>(row, list, sample) : null;
        if (list) heap.ScanList<TElements>(row, List, ListCount, floor);
        else heap.Scan<TElements>(row, Width, Mask, floor);
        if (floor is null || heap.Count == Keep) return;
        heap.Reset(Keep);   // the floor was too high: rare, and exact either way
        if (list) heap.ScanList<TElements>(row, List, ListCount, null);
        else heap.Scan<TElements>(row, Width, Mask, null);
    }

    /// <summary>Sets <see cref="sampleRank"/> for rows of c candidates with m of them sampled: the
    /// sample's j-th largest, j = ⌈2Km/c⌉, has about 2K values above it. Off below 4K candidates.</summary>
    void PlanSample()
    {
        bool list = List != null && Mask == null;
        long candidates = list ? ListCount : Width, m = list ? (ListCount + SampleStride - 1) / SampleStride : (Width + SampleStride - 1) / SampleStride;
        if (!list && Mask != null)
        {
            candidates = m = 0;
            for (long c = 0; c < Width; c++) candidates -= Mask[c];                     // −1 where kept
            for (long c = 0; c < Width; c += SampleStride) m -= Mask[c];
        }
        long j = (2L * Keep * m + candidates - 1) / Math.Max(1, candidates);
        sampled = candidates >= 4L * Keep && m > 0 && j >= 1 && j <= m && j <= Keep;
        sampleRank = (int)j;
    }

    /// <summary>
    /// A lower bound for the row's K-th value: the <see cref="sampleRank"/>-th largest of a strided
    /// sample. Offering only values above it makes the heap's work about 2K pushes instead of the
    /// K·ln(c/K) replacements a plain scan needs (for AuxK 256 over thousands of dead columns, more
    /// than the scan itself). Null when the sample holds a NaN.
    /// </summary>
    readonly float? Floor<TElements>(void* row, bool list, SelectionHeap sample) where TElements : IRowElements
    {
        sample.Reset(sampleRank);
        if (list)
            for (int t = 0; t < ListCount; t += SampleStride) sample.Offer(TElements.Load(row, List[t]), List[t]);
        else
            for (long c = 0; c < Width; c += SampleStride)
                if (Mask == null || Mask[c] != 0) sample.Offer(TElements.Load(row, c), (int)c);
        float floor = sample.Least;
        return float.IsNaN(floor) ? null : floor;
    }
}

using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// The encoder's forward in row chunks: per chunk the pre-activations <c>u Wᵀ</c> (one reused
/// <c>[c, F]</c> buffer), their TopK and, when the dead mask is known beforehand, the AuxK
/// candidates over the dead columns; only <c>[N, K]</c> and <c>[N, AuxK]</c> leave the chunk, so
/// the <c>[N, F]</c> matrix never exists. Each row's selection depends on that row alone, so
/// chunking changes no result. On the CPU the selection is <see cref="SelectionHeap"/>'s partial
/// selection; elsewhere <c>torch.topk</c> per chunk.
/// <para>In half precision the pass selects <see cref="Candidates"/> per vector from the half-precision
/// pre-activations, re-scores them with exact float32 dot products and keeps the best K, so TopK
/// values are float32 and near-ties that half-precision rounding creates are resolved as float32
/// resolves them. AuxK values keep half precision: they only steer dead latents, and re-scoring
/// AuxK candidates per vector would cost more than the half-precision matmul saves.</para>
/// </summary>
static class EncoderPass
{
    /// <summary>
    /// Bytes of one chunk's pre-activations. Measured (2 threads, D 512, N 4096): the matmul repacks
    /// the whole encoder for every chunk, so chunks under ~1024 rows cost up to 15% more than one
    /// full matmul, while 1024–2048-row chunks cost the same and the selection that follows is
    /// nearly free. 128 MiB is 2048 rows at x32 and 1024 at x64: at N = 4096 a half and a quarter of the <c>[N, F]</c> matrix.
    /// </summary>
    public const long ChunkBytes = 128L << 20;
    /// <summary>The fewest rows a chunk has (unless N is smaller).</summary>
    public const int MinChunkRows = 1024;

    /// <summary>Rows per chunk for <paramref name="width"/> pre-activations of <paramref name="elementBytes"/> each.</summary>
    public static int ChunkRows(long n, long width, int elementBytes) =>
        (int)Math.Min(n, Math.Max(MinChunkRows, ChunkBytes / (width * elementBytes)));

    /// <summary>Candidates per vector a half-precision pass re-scores in float32: K plus a margin
    /// (max(16, K/2)) for the latents whose rounded values tie with or cross the K-th.</summary>
    public static int Candidates(int k, long f) => (int)Math.Min(f, k + Math.Max(16, k / 2));

    /// <summary>What one pass selects.</summary>
    /// <param name="Values">Raw TopK values, float32. // [N, K]</param>
    /// <param name="Indices">TopK latents. // [N, K]</param>
    /// <param name="AuxValues">AuxK values clamped at 0 (null when the pass had no dead mask). // [N, AuxK]</param>
    /// <param name="AuxIndices">AuxK latents (slots no positive dead latent fills: latent 0). // [N, AuxK]</param>
    public sealed record Result(Tensor Values, Tensor Indices, Tensor? AuxValues, Tensor? AuxIndices);

    /// <summary>
    /// Runs the pass. <paramref name="dead"/> // [F] bool: the mask AuxK selects over, when known
    /// before the TopK; null skips AuxK (see <see cref="DeadColumns"/>).
    /// </summary>
    public static Result Run(Tensor u, Tensor weight, int k, int? auxk, Tensor? dead, ScalarType dtype, int? chunkRows, bool cpuKernels, bool? widen = null)
    {
        using var scope = NewDisposeScope();
        long n = u.shape[0], f = weight.shape[0];
        u = u.contiguous();
        weight = weight.contiguous();
        var compute = Cast(u, weight, dtype, widen);
        var values = empty([n, k], ScalarType.Float32, u.device);
        var indices = empty([n, k], ScalarType.Int64, u.device);
        var aux = auxk is int a && dead is not null ? new AuxTarget(dead, a, n) : null;
        int rows = chunkRows ?? ChunkRows(n, f, compute.ElementBytes);
        var buffer = empty([Math.Min(rows, n), f], compute.Weight.dtype, u.device);
        for (long r = 0; r < n; r += rows)
        {
            long c = Math.Min(rows, n - r);
            var pre = buffer.narrow(0, 0, c).addmm_(compute.Inputs.narrow(0, r, c), compute.Weight.t(), beta: 0, alpha: 1);   // [c, F]
            var uChunk = u.narrow(0, r, c);
            if (cpuKernels) CpuChunk(pre, uChunk, weight, k, dtype, values, indices, aux, r);
            else TorchChunk(pre, uChunk, weight, k, dtype, values.narrow(0, r, c), indices.narrow(0, r, c), aux, r);
        }
        aux?.Values.clamp_min_(0);   // a negative dead value loses to the reference's masked zeros
        return new Result(values.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope(),
            aux?.Values.MoveToOuterDisposeScope(), aux?.Indices.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The reference's AuxK selection, <c>topk(latents · dead_mask, auxk)</c>, when the dead mask is
    /// only known after the TopK (the reference's order updates it with this call): a second pass
    /// over the dead columns alone, their encoder rows gathered once (<c>[dead, D]</c>). The reference
    /// fills the slots that positive dead latents do not take with masked zeros; here they are value 0
    /// at latent 0. After the ReLU both contribute nothing to the reconstruction and get no
    /// gradient, so the loss and every gradient are the same. // → [N, AuxK] ×2
    /// </summary>
    public static (Tensor Values, Tensor Indices) DeadColumns(Tensor u, Tensor weight, Tensor dead, int auxk, ScalarType dtype, int? chunkRows, bool cpuKernels, bool? widen = null)
    {
        using var scope = NewDisposeScope();
        long n = u.shape[0];
        var deadIndex = dead.nonzero().squeeze(1);                                   // [dead]
        long count = deadIndex.shape[0];
        var values = zeros([n, auxk], ScalarType.Float32, u.device);
        var indices = zeros([n, auxk], ScalarType.Int64, u.device);
        if (count > 0)
        {
            u = u.contiguous();
            var compute = Cast(u, weight.index_select(0, deadIndex), dtype, widen);          // [dead, D]
            int take = (int)Math.Min(auxk, count);
            int rows = chunkRows ?? ChunkRows(n, count, compute.ElementBytes);
            var buffer = empty([Math.Min(rows, n), count], compute.Weight.dtype, u.device);
            var map = cpuKernels ? deadIndex.to(ScalarType.Int32) : null;
            for (long r = 0; r < n; r += rows)
            {
                long c = Math.Min(rows, n - r);
                var pre = buffer.narrow(0, 0, c).addmm_(compute.Inputs.narrow(0, r, c), compute.Weight.t(), beta: 0, alpha: 1);   // [c, dead]
                if (cpuKernels)
                {
                    var (kernelRows, kernelType) = KernelView(pre);
                    unsafe
                    {
                        new RowSelection
                        {
                            Rows = TensorMemory.Pointer(kernelRows, kernelType, "pre-activations"), DType = kernelType, Width = count, Keep = take,
                            ColumnMap = TensorMemory.Ints(map!, "dead columns"),
                            OutValues = TensorMemory.Floats(values, "auxk values") + r * auxk, OutIndices = TensorMemory.Longs(indices, "auxk indices") + r * auxk, OutStride = auxk,
                        }.Run((int)c);
                    }
                }
                else
                {
                    var (top, at) = pre.topk(take, dim: -1, largest: true, sorted: false);
                    values.narrow(0, r, c).narrow(1, 0, take).copy_(top);
                    indices.narrow(0, r, c).narrow(1, 0, take).copy_(deadIndex.index_select(0, at.reshape(-1)).reshape(c, take));
                }
            }
            values.clamp_min_(0);   // a negative dead value loses to the reference's masked zeros
        }
        return (values.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope());
    }

    sealed record Operands(Tensor Inputs, Tensor Weight, int ElementBytes);

    /// <summary>The matmul's operands in the compute dtype: the float32 master weights cast once per
    /// pass. Widened bfloat16 on the CPU (<see cref="CpuFeatures.WidenBFloat16"/>, or
    /// <paramref name="widen"/>): the bfloat16-rounded operands held in float32, so the product is a
    /// float32 matmul of bfloat16 values, as native bfloat16 dot products compute it; the
    /// pre-activations then stay float32 (rounding them to bfloat16 would only add error before the
    /// re-scoring, which uses the exact float32 operands either way).</summary>
    static Operands Cast(Tensor u, Tensor weight, ScalarType dtype, bool? widen)
    {
        if (dtype == ScalarType.Float32) return new Operands(u, weight, 4);
        bool cpu = u.device_type == TorchSharp.DeviceType.CPU;
        if (cpu && dtype == ScalarType.BFloat16)
        {
            CpuFeatures.NoteBFloat16OnCpu();
            if (widen ?? CpuFeatures.WidenBFloat16)
                return new Operands(u.to(dtype).to(ScalarType.Float32), weight.to(dtype).to(ScalarType.Float32), 4);
        }
        return new Operands(u.to(dtype), weight.to(dtype), 2);
    }

    /// <summary>Where AuxK candidates go when the dead mask is known up front. A mask keeping few
    /// columns is scanned as a list (a gather per dead column), a larger one as a vector mask.</summary>
    sealed class AuxTarget
    {
        public AuxTarget(Tensor dead, int auxk, long n)
        {
            AuxK = auxk;
            DeadIndex = dead.nonzero().squeeze(1);                                  // [dead]
            Count = DeadIndex.shape[0];
            Take = (int)Math.Min(auxk, Count);
            Values = zeros([n, auxk], ScalarType.Float32, dead.device);
            Indices = zeros([n, auxk], ScalarType.Int64, dead.device);
            if (dead.device_type != TorchSharp.DeviceType.CPU) return;
            if (Count * 8 < dead.shape[0]) List = DeadIndex.to(ScalarType.Int32);
            else Mask = dead.to(ScalarType.Int32).neg();
        }

        public int AuxK { get; }
        public Tensor DeadIndex { get; }
        public long Count { get; }
        public int Take { get; }
        public Tensor Values { get; }
        public Tensor Indices { get; }
        public Tensor? List { get; }
        public Tensor? Mask { get; }
    }

    /// <summary>A chunk as the CPU kernel reads it: float32 and bfloat16 directly, float16 converted.</summary>
    static (Tensor Rows, ScalarType DType) KernelView(Tensor pre) => pre.dtype is ScalarType.Float32 or ScalarType.BFloat16
        ? (pre, pre.dtype)
        : (pre.to(ScalarType.Float32), ScalarType.Float32);

    static unsafe void CpuChunk(Tensor pre, Tensor uChunk, Tensor weight, int k, ScalarType dtype, Tensor values, Tensor indices, AuxTarget? aux, long r)
    {
        long c = pre.shape[0], f = pre.shape[1];
        var (rows, kernelType) = KernelView(pre);
        void* data = TensorMemory.Pointer(rows, kernelType, "pre-activations");
        bool rescore = dtype != ScalarType.Float32;
        new RowSelection
        {
            Rows = data, DType = kernelType, Width = f, Keep = rescore ? Candidates(k, f) : k,
            OutValues = TensorMemory.Floats(values, "topk values") + r * k, OutIndices = TensorMemory.Longs(indices, "topk indices") + r * k, OutStride = k,
            Inputs = rescore ? TensorMemory.Floats(uChunk, "inputs") : null, Weight = rescore ? TensorMemory.Floats(weight, "encoder") : null,
            D = (int)uChunk.shape[1], RescoreKeep = k,
        }.Run((int)c);
        if (aux is null || aux.Take == 0) return;
        new RowSelection
        {
            Rows = data, DType = kernelType, Width = f, Keep = aux.Take,
            Mask = aux.Mask is null ? null : TensorMemory.Ints(aux.Mask, "dead mask"),
            List = aux.List is null ? null : TensorMemory.Ints(aux.List, "dead columns"), ListCount = (int)aux.Count,
            OutValues = TensorMemory.Floats(aux.Values, "auxk values") + r * aux.AuxK, OutIndices = TensorMemory.Longs(aux.Indices, "auxk indices") + r * aux.AuxK, OutStride = aux.AuxK,
        }.Run((int)c);
    }

    static void TorchChunk(Tensor pre, Tensor uChunk, Tensor weight, int k, ScalarType dtype, Tensor values, Tensor indices, AuxTarget? aux, long r)
    {
        if (dtype == ScalarType.Float32)
        {
            var (top, at) = pre.topk(k, dim: -1, largest: true, sorted: false);
            values.copy_(top);
            indices.copy_(at);
        }
        else
        {
            // Candidates in half precision, re-scored exactly: [c, m, D]·[c, D, 1] → [c, m].
            long c = pre.shape[0], d = uChunk.shape[1];
            var (_, candidates) = pre.topk(Candidates(k, pre.shape[1]), dim: -1, largest: true, sorted: false);   // [c, m]
            var rows = weight.index_select(0, candidates.reshape(-1)).reshape(c, -1, d);
            var exact = rows.bmm(uChunk.unsqueeze(2)).squeeze(2);                      // [c, m]
            var (top, at) = exact.topk(k, dim: -1, largest: true, sorted: false);
            values.copy_(top);
            indices.copy_(candidates.gather(1, at));
        }
        if (aux is null || aux.Take == 0) return;
        var (auxTop, auxAt) = pre.index_select(1, aux.DeadIndex).topk(aux.Take, dim: -1, largest: true, sorted: false);
        long rows2 = pre.shape[0];
        aux.Values.narrow(0, r, rows2).narrow(1, 0, aux.Take).copy_(auxTop);
        aux.Indices.narrow(0, r, rows2).narrow(1, 0, aux.Take).copy_(aux.DeadIndex.index_select(0, auxAt.reshape(-1)).reshape(rows2, aux.Take));
    }
}

using System.Buffers;
using System.Runtime.Intrinsics;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// A weight gradient from selected entries alone, <c>dW[j] = Σ_(n, s : i[n, s] = j) g[n, s] · u[n]</c>,
/// and per latent <c>Σ g</c>: the encoder's (g the TopK/AuxK gradients, u the inputs; the sums give
/// the bias gradient) and the decoder's (g the latent values, u the output gradient). Entries with
/// g = 0 (AuxK slots the ReLU stopped) are skipped. On the CPU
/// the entries are bucketed by latent (a counting sort) and each latent's row is accumulated by
/// one thread in increasing n, so the result does not depend on the thread count; elsewhere a
/// sparse COO <c>[F, N]·[N, D]</c> product.
/// </summary>
static class SparseWeightGradient
{
    /// <summary>The gradient for <paramref name="slots"/>: pairs of latent indices // [N, S] int64 and
    /// gradients // [N, S] float32, with <paramref name="u"/> // [N, D]. // → [F, D], [F]</summary>
    public static (Tensor Weight, Tensor PerLatent) Compute(Tensor u, IReadOnlyList<(Tensor Indices, Tensor Grads)> slots, long f, bool cpuKernels) =>
        cpuKernels ? Cpu(u.contiguous(), slots, f) : Torch(u, slots, f);

    static (Tensor, Tensor) Torch(Tensor u, IReadOnlyList<(Tensor Indices, Tensor Grads)> slots, long f)
    {
        long n = u.shape[0];
        var indices = cat(slots.Select(s => s.Indices).ToArray(), 1);                 // [N, S]
        var grads = cat(slots.Select(s => s.Grads).ToArray(), 1);
        var latentIndex = indices.reshape(-1);
        var flatGrads = grads.reshape(-1);
        var rows = arange(n, dtype: ScalarType.Int64, device: u.device).repeat_interleave(indices.shape[1]);
        var live = flatGrads.ne(0);
        latentIndex = latentIndex.masked_select(live);
        flatGrads = flatGrads.masked_select(live);
        rows = rows.masked_select(live);
        using var g = sparse_coo_tensor(stack([latentIndex, rows]), flatGrads, [f, n]);
        var weight = g.mm(u);                                                          // [F, D]
        var perLatent = zeros(f, grads.dtype, grads.device).index_add_(0, latentIndex, flatGrads, 1);
        return (weight, perLatent);
    }

    static unsafe (Tensor, Tensor) Cpu(Tensor u, IReadOnlyList<(Tensor Indices, Tensor Grads)> slots, long f)
    {
        long n = u.shape[0];
        int d = (int)u.shape[1];
        var contiguous = slots.Select(s => (Indices: s.Indices.contiguous(), Grads: s.Grads.contiguous())).ToArray();
        var counts = ArrayPool<int>.Shared.Rent((int)f + 1);
        try
        {
            Array.Clear(counts, 0, (int)f + 1);
            long total = 0;
            foreach (var (indices, grads) in contiguous)
            {
                long* index = TensorMemory.Longs(indices, "latent indices");
                float* grad = TensorMemory.Floats(grads, "latent gradients");
                for (long e = 0, count = indices.numel(); e < count; e++)
                {
                    if (grad[e] == 0) continue;
                    long j = index[e];
                    if ((ulong)j >= (ulong)f) throw new InvalidOperationException($"latent index {j} outside [0, {f})");
                    counts[j + 1]++;
                    total++;
                }
            }
            for (long j = 0; j < f; j++) counts[j + 1] += counts[j];                 // counts[j] = first entry of latent j
            var rows = ArrayPool<int>.Shared.Rent((int)Math.Max(1, total));
            var values = ArrayPool<float>.Shared.Rent((int)Math.Max(1, total));
            var next = ArrayPool<int>.Shared.Rent((int)f);
            try
            {
                Array.Copy(counts, next, f);
                // In increasing n (then TopK before AuxK): each latent's sum runs in that order.
                for (long row = 0; row < n; row++)
                    foreach (var (indices, grads) in contiguous)
                    {
                        long s = indices.shape[1];
                        long* index = TensorMemory.Longs(indices, "latent indices") + row * s;
                        float* grad = TensorMemory.Floats(grads, "latent gradients") + row * s;
                        for (long t = 0; t < s; t++)
                        {
                            if (grad[t] == 0) continue;
                            int at = next[index[t]]++;
                            rows[at] = (int)row;
                            values[at] = grad[t];
                        }
                    }
                var weight = empty([f, d], ScalarType.Float32);
                var perLatent = empty(f, ScalarType.Float32);
                float* w = TensorMemory.Floats(weight, "weight gradient"), sums = TensorMemory.Floats(perLatent, "per-latent gradient");
                float* x = TensorMemory.Floats(u, "inputs");
                int threads = Math.Max(1, get_num_threads());
                int blocks = (int)Math.Min(f, threads * 8);
                Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
                {
                    // Blocks of latents with about equal numbers of entries.
                    long first = Bound(counts, f, total * b / blocks), last = Bound(counts, f, total * (b + 1) / blocks);
                    if (b == blocks - 1) last = f;
                    if (b == 0) first = 0;
                    for (long j = first; j < last; j++) Accumulate(j, counts, rows, values, x, w + j * d, sums, d);
                });
                return (weight, perLatent);
            }
            finally
            {
                ArrayPool<int>.Shared.Return(rows);
                ArrayPool<float>.Shared.Return(values);
                ArrayPool<int>.Shared.Return(next);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>The first latent whose entries start at or after <paramref name="entry"/>.</summary>
    static long Bound(int[] starts, long f, long entry)
    {
        long lo = 0, hi = f;
        while (lo < hi)
        {
            long mid = (lo + hi) / 2;
            if (starts[mid] < entry) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    static unsafe void Accumulate(long j, int[] starts, int[] rows, float[] values, float* x, float* target, float* sums, int d)
    {
        int begin = starts[j], end = starts[j + 1];
        float sum = 0;
        if (begin == end)
        {
            new Span<float>(target, d).Clear();
            sums[j] = 0;
            return;
        }
        for (int e = begin; e < end; e++)
        {
            float g = values[e];
            float* source = x + (long)rows[e] * d;
            int i = 0;
            if (e == begin)
            {
                if (Vector256.IsHardwareAccelerated)
                    for (; i + 8 <= d; i += 8) Vector256.Store(Vector256.Load(source + i) * g, target + i);
                for (; i < d; i++) target[i] = g * source[i];
            }
            else
            {
                if (Vector256.IsHardwareAccelerated)
                {
                    var scale = Vector256.Create(g);
                    for (; i + 8 <= d; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(source + i), scale, Vector256.Load(target + i)), target + i);
                }
                for (; i < d; i++) target[i] += g * source[i];
            }
            sum += g;
        }
        sums[j] = sum;
    }
}

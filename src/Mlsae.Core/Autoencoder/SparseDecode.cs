using System.Runtime.Intrinsics;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// <c>Σ_s v[n, s] · W[i[n, s]]</c> as one autograd function with CPU kernels, the work of an
/// EmbeddingBag in sum mode with per-sample weights without its dense bookkeeping: the forward
/// gathers rows per vector, the backward gives <c>dv[n, s] = g[n] · W[i[n, s]]</c> for every slot and
/// <c>dW[j] = Σ v[n, s] g[n]</c> over the slots holding j (<see cref="SparseWeightGradient"/>; slots
/// with v = 0 add nothing and are skipped). <c>[values, indices, weight]</c> → <c>[N, D]</c>.
/// </summary>
sealed class SparseDecode : autograd.MultiTensorFunction<SparseDecode>
{
    /// <inheritdoc />
    public override string Name => nameof(SparseDecode);

    /// <inheritdoc />
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var values = ((Tensor)vars[0]).contiguous();      // [N, S]
        var indices = ((Tensor)vars[1]).contiguous();     // [N, S]
        var weight = ((Tensor)vars[2]).contiguous();      // [F, D]
        ctx.save_for_backward([values, indices, weight]);
        return [Decode(values, indices, weight)];
    }

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        var (values, indices, weight) = (saved[0], saved[1], saved[2]);
        var grad = gradOutputs[0].contiguous();           // [N, D]
        var gradValues = SlotGradients(grad, indices, weight);                          // [N, S]
        var (gradWeight, _) = SparseWeightGradient.Compute(grad, [(indices, values)], weight.shape[0], cpuKernels: true);   // [F, D]
        return [gradValues, null!, gradWeight];
    }

    /// <summary>The forward kernel, rows in parallel. // → [N, D]</summary>
    static unsafe Tensor Decode(Tensor values, Tensor indices, Tensor weight)
    {
        long n = values.shape[0], s = values.shape[1], f = weight.shape[0];
        int d = (int)weight.shape[1];
        var output = empty([n, d], ScalarType.Float32);
        float* v = TensorMemory.Floats(values, "values"), w = TensorMemory.Floats(weight, "decoder"), o = TensorMemory.Floats(output, "output");
        long* i = TensorMemory.Longs(indices, "indices");
        ForRows(n, row =>
        {
            var target = o + row * d;
            new Span<float>(target, d).Clear();
            for (long slot = row * s, end = slot + s; slot < end; slot++)
            {
                float scale = v[slot];
                if (scale == 0) continue;
                long j = i[slot];
                if ((ulong)j >= (ulong)f) throw new InvalidOperationException($"latent index {j} outside [0, {f})");
                Axpy(scale, w + j * d, target, d);
            }
        });
        return output;
    }

    /// <summary><c>dv[n, s] = g[n] · W[i[n, s]]</c>, rows in parallel. // → [N, S]</summary>
    static unsafe Tensor SlotGradients(Tensor grad, Tensor indices, Tensor weight)
    {
        long n = indices.shape[0], s = indices.shape[1];
        int d = (int)weight.shape[1];
        var result = empty([n, s], ScalarType.Float32);
        float* g = TensorMemory.Floats(grad, "output gradient"), w = TensorMemory.Floats(weight, "decoder"), r = TensorMemory.Floats(result, "value gradients");
        long* i = TensorMemory.Longs(indices, "indices");
        ForRows(n, row =>
        {
            for (long slot = row * s, end = slot + s; slot < end; slot++)
                r[slot] = SelectionHeap.Dot(g + row * d, w + i[slot] * d, d);
        });
        return result;
    }

    static void ForRows(long n, Action<long> body)
    {
        int threads = Math.Max(1, get_num_threads());
        int blocks = (int)Math.Min(n, threads * 4);
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
        {
            for (long row = n * b / blocks, end = n * (b + 1) / blocks; row < end; row++) body(row);
        });
    }

    /// <summary><c>y += a · x</c> over <paramref name="d"/> floats.</summary>
    static unsafe void Axpy(float a, float* x, float* y, int d)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var scale = Vector256.Create(a);
            for (; k + 8 <= d; k += 8) Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(x + k), scale, Vector256.Load(y + k)), y + k);
        }
        for (; k < d; k++) y[k] += a * x[k];
    }
}

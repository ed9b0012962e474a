using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Distributed;

/// <summary>
/// The data-parallel ranks of an MPI world: gradient and tally sums are in-place allreduces on the
/// tensors' own storage, and broadcasts overwrite the tensors in place. float32, float64 and int64
/// tensors (and int32 for broadcasts); any other dtype is a bug in the caller.
/// </summary>
public sealed unsafe class MpiDataParallel(MpiWorld world) : IDataParallel
{
    /// <summary>The world the ranks belong to.</summary>
    public MpiWorld World => world;

    /// <inheritdoc />
    public int Rank => world.Rank;
    /// <inheritdoc />
    public int Size => world.Size;

    /// <inheritdoc />
    public void SumInPlace(Tensor tensor)
    {
        switch (tensor.dtype)
        {
            case ScalarType.Float32: TensorMemory.With<float>(tensor, true, (p, n) => world.AllreduceInPlace((float*)p, n, MpiOp.Sum)); break;
            case ScalarType.Float64: TensorMemory.With<double>(tensor, true, (p, n) => world.AllreduceInPlace((double*)p, n, MpiOp.Sum)); break;
            case ScalarType.Int64: TensorMemory.With<long>(tensor, true, (p, n) => world.AllreduceInPlace((long*)p, n, MpiOp.Sum)); break;
            default: throw new ArgumentException($"SumInPlace: {tensor.dtype} tensors are not summed over ranks (float32, float64, int64)");
        }
    }

    /// <inheritdoc />
    public void Broadcast(Tensor tensor, int root = 0)
    {
        switch (tensor.dtype)
        {
            case ScalarType.Float32: TensorMemory.With<float>(tensor, true, (p, n) => world.Broadcast((float*)p, n, root)); break;
            case ScalarType.Float64: TensorMemory.With<double>(tensor, true, (p, n) => world.Broadcast((double*)p, n, root)); break;
            case ScalarType.Int64: TensorMemory.With<long>(tensor, true, (p, n) => world.Broadcast((long*)p, n, root)); break;
            case ScalarType.Int32: TensorMemory.With<int>(tensor, true, (p, n) => world.Broadcast((int*)p, n, root)); break;
            default: throw new ArgumentException($"Broadcast: {tensor.dtype} tensors are not broadcast over ranks (float32, float64, int32, int64)");
        }
    }
}

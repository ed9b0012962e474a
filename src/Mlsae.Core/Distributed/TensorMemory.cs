using static TorchSharp.torch;

namespace Mlsae.Distributed;

/// <summary>
/// A CPU tensor's values as native memory, for MPI calls that read and write them in place.
/// TorchSharp has no public data pointer: the storage's pointer plus the tensor's storage offset is
/// where its first element lives, and a contiguous tensor's elements follow it.
/// </summary>
internal static unsafe class TensorMemory
{
    /// <summary>Runs <paramref name="action"/> on the address and element count of
    /// <paramref name="tensor"/>'s values. A tensor that is not a contiguous CPU tensor is staged
    /// through one (Debian's MPI is not CUDA-aware) and, when <paramref name="writeBack"/>, copied back.</summary>
    public static void With<T>(Tensor tensor, bool writeBack, Action<nint, long> action) where T : unmanaged
    {
        bool direct = tensor.device_type == TorchSharp.DeviceType.CPU && tensor.is_contiguous();
        using var staged = direct ? null : tensor.detach().cpu().contiguous().clone();
        var target = staged ?? tensor;
        using (var storage = target.storage<T>())
            action(storage.data_ptr() + (nint)(target.storage_offset() * sizeof(T)), target.numel());
        if (staged is not null && writeBack)
            using (no_grad()) tensor.copy_(staged);
    }
}

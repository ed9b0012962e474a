using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Mlsae.Tensors;

/// <summary>
/// Raw access to a CPU tensor's elements for the hand-written kernels (TopK selection, the sparse
/// weight gradient). TorchSharp 0.107 exposes no data pointer, so this asks its native glue
/// (<c>THSTensor_data</c>, the same call its <c>TensorAccessor</c> makes); the pointer is valid while
/// the tensor lives and its storage is not resized.
/// </summary>
static class TensorMemory
{
    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);

    /// <summary>The first element of <paramref name="tensor"/>, which must be a contiguous CPU tensor of
    /// <paramref name="dtype"/> (the kernels index it as a dense row-major array).</summary>
    public static unsafe void* Pointer(Tensor tensor, ScalarType dtype, string name)
    {
        if (tensor.device_type != TorchSharp.DeviceType.CPU || tensor.dtype != dtype || !tensor.is_contiguous())
            throw new InvalidOperationException($"{name}: the CPU kernel needs a contiguous CPU {dtype} tensor, got {tensor.device_type} {tensor.dtype}"
                + (tensor.is_contiguous() ? "" : " (not contiguous)"));
        return (void*)THSTensor_data(tensor.Handle);
    }

    /// <summary><see cref="Pointer"/> typed as <c>float*</c>.</summary>
    public static unsafe float* Floats(Tensor tensor, string name) => (float*)Pointer(tensor, ScalarType.Float32, name);

    /// <summary><see cref="Pointer"/> typed as <c>int*</c>.</summary>
    public static unsafe int* Ints(Tensor tensor, string name) => (int*)Pointer(tensor, ScalarType.Int32, name);

    /// <summary><see cref="Pointer"/> typed as <c>long*</c>.</summary>
    public static unsafe long* Longs(Tensor tensor, string name) => (long*)Pointer(tensor, ScalarType.Int64, name);
}

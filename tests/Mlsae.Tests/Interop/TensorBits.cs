using static TorchSharp.torch;

namespace Mlsae.Tests.Interop;

/// <summary>Bit-for-bit tensor equality: same dtype, shape and bytes (NaN payloads and signed zeros included).</summary>
public static class TensorBits
{
    public static bool Equal(Tensor expected, Tensor actual)
    {
        if (expected.dtype != actual.dtype || !expected.shape.SequenceEqual(actual.shape)) return false;
        using var e = expected.cpu().contiguous();
        using var a = actual.cpu().contiguous();
        return e.bytes.SequenceEqual(a.bytes);
    }
}

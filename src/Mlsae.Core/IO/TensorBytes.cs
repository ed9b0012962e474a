using TorchSharp;

namespace Mlsae.IO;

/// <summary>
/// A CPU tensor's bytes in pieces. <see cref="torch.Tensor.bytes"/> is one <see cref="Span{T}"/>,
/// which cannot pass 2 GiB; a 7B model's embedding is larger. Each piece here is the
/// <c>bytes</c> of a narrowed view of the flattened tensor, so it points into the tensor's own
/// storage: filling it fills the tensor, with no staging copy.
/// </summary>
internal static class TensorBytes
{
    /// <summary>The piece size used unless a test asks for smaller ones (1 GiB).</summary>
    public const long DefaultChunkBytes = 1L << 30;

    /// <summary>Receives one piece and its byte offset within the tensor.</summary>
    public delegate void ChunkAction(Span<byte> chunk, long offset);

    /// <summary>An uninitialised CPU tensor for <paramref name="name"/> of <paramref name="path"/>;
    /// an allocation that fails (a header asking for more memory than there is) is an
    /// <see cref="MlsaeException"/> naming the tensor and the size, not libtorch's stack trace.</summary>
    public static torch.Tensor Empty(string path, string name, long[] shape, torch.ScalarType type)
    {
        try { return torch.empty(shape, type); }
        catch (Exception e) when (e is not MlsaeException)
        {
            long bytes = (SafeTensorsHeader.Numel(shape) ?? long.MaxValue) * (long)SafeTensorsDType.ElementSize(type);
            throw MlsaeException.From(
                $"{path}: tensor '{ContainedPath.Printable(name)}' of shape {Tensors.Shapes.Format(shape)} ({bytes:N0} bytes) cannot be allocated", e);
        }
    }

    /// <summary>Calls <paramref name="action"/> on consecutive pieces of at most
    /// <paramref name="chunkBytes"/> bytes (never less than one element) covering all of
    /// <paramref name="tensor"/>'s bytes in order. The tensor must be contiguous and on the CPU.</summary>
    public static void ForEachChunk(torch.Tensor tensor, long chunkBytes, ChunkAction action)
    {
        long numel = tensor.numel();
        if (numel == 0) return;
        if (!tensor.is_contiguous() || tensor.device_type != DeviceType.CPU)
            throw new ArgumentException("a contiguous CPU tensor is needed", nameof(tensor));
        long elementSize = tensor.ElementSize;
        long perChunk = Math.Max(1, Math.Min(chunkBytes, int.MaxValue) / elementSize);
        using var flat = tensor.reshape(-1);   // a view: contiguous input
        for (long start = 0; start < numel; start += perChunk)
        {
            long n = Math.Min(perChunk, numel - start);
            using var part = flat.narrow(0, start, n);
            action(part.bytes, start * elementSize);
        }
    }
}

using TorchSharp;

namespace Mlsae.IO;

/// <summary>
/// A safetensors file opened for reading. The header is parsed and every entry validated up
/// front (<see cref="SafeTensorsHeader"/>); tensor data is read once, straight into the tensor's
/// storage, in pieces of at most 1 GiB, so tensors of any size load.
/// </summary>
public sealed class SafeTensorsFile : IWeightSource
{
    /// <summary>One tensor's header entry: <paramref name="Begin"/> and <paramref name="End"/> are
    /// byte offsets into the data section.</summary>
    public sealed record Entry(string Name, string Code, torch.ScalarType Type, long[] Shape, long Begin, long End);

    readonly SafeTensorsHeader header;
    readonly FileStream file;

    /// <inheritdoc />
    public string Path { get; }

    /// <summary>The optional <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata => header.Metadata;

    /// <inheritdoc />
    public IReadOnlyCollection<string> Names => header.Names;

    /// <summary>The parsed header entries by name.</summary>
    public IReadOnlyDictionary<string, Entry> Entries => header.Entries;

    SafeTensorsFile(string path, SafeTensorsHeader header, FileStream file)
    {
        Path = path; this.header = header; this.file = file;
    }

    /// <summary>Opens and validates a safetensors file. Bad files throw <see cref="MlsaeException"/>
    /// naming the file and, where there is one, the tensor.</summary>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        FileStream file;
        // The stream's length, not FileInfo's: hub cache snapshots are symlinks into blobs/.
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw MlsaeException.From($"{path}: cannot open", e); }
        try { return new SafeTensorsFile(path, SafeTensorsHeader.Read(path, file), file); }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    Entry Get(string name) => header.Entries.TryGetValue(name, out var e) ? e
        : throw new MlsaeException($"{Path}: no tensor named '{ContainedPath.Printable(name)}'");

    /// <inheritdoc />
    public long[] Shape(string name) => Get(name).Shape;

    /// <inheritdoc />
    public torch.ScalarType DType(string name) => Get(name).Type;

    /// <inheritdoc />
    public torch.Tensor Read(string name) => Read(name, TensorBytes.DefaultChunkBytes);

    /// <summary><see cref="Read(string)"/> in pieces of at most <paramref name="chunkBytes"/> bytes
    /// (tests use small pieces to cover the chunking on small files).</summary>
    internal torch.Tensor Read(string name, long chunkBytes)
    {
        var e = Get(name);
        var tensor = TensorBytes.Empty(Path, name, e.Shape, e.Type);
        try
        {
            long start = header.DataStart + e.Begin;
            // RandomAccess reads at an offset without moving a shared position, so reads may overlap.
            TensorBytes.ForEachChunk(tensor, chunkBytes, (chunk, offset) => ReadAt(name, chunk, start + offset));
            return tensor;
        }
        catch (Exception ex)
        {
            tensor.Dispose();
            if (ex is IOException) throw MlsaeException.From($"{Path}: tensor '{ContainedPath.Printable(name)}': read failed", ex);
            throw;
        }
    }

    /// <summary>
    /// Reads <paramref name="destination"/>'s element count of consecutive elements of tensor
    /// <paramref name="name"/>, from element <paramref name="firstElement"/> of its row-major data,
    /// into <paramref name="destination"/> (a contiguous CPU tensor of the entry's dtype, e.g. a view
    /// into a larger one): a slab of a large tensor without reading the rest.
    /// </summary>
    public void ReadInto(string name, long firstElement, torch.Tensor destination)
    {
        var e = Get(name);
        long size = SafeTensorsDType.ElementSize(e.Type);
        if (destination.dtype != e.Type || !destination.is_contiguous() || destination.device_type != DeviceType.CPU)
            throw new ArgumentException($"a contiguous CPU {e.Type} tensor is needed", nameof(destination));
        if (firstElement < 0 || firstElement + destination.numel() > (e.End - e.Begin) / size)
            throw new MlsaeException($"{Path}: tensor '{ContainedPath.Printable(name)}': elements {firstElement}..{firstElement + destination.numel()} lie outside its {(e.End - e.Begin) / size}");
        long start = header.DataStart + e.Begin + firstElement * size;
        try { TensorBytes.ForEachChunk(destination, TensorBytes.DefaultChunkBytes, (chunk, offset) => ReadAt(name, chunk, start + offset)); }
        catch (IOException ex) { throw MlsaeException.From($"{Path}: tensor '{ContainedPath.Printable(name)}': read failed", ex); }
    }

    void ReadAt(string name, Span<byte> chunk, long at)
    {
        int got = 0;
        while (got < chunk.Length)
        {
            int n = RandomAccess.Read(file.SafeFileHandle, chunk[got..], at + got);
            if (n == 0)
                throw new MlsaeException(
                    $"{Path}: tensor '{ContainedPath.Printable(name)}': file ends at byte {at + got}, inside the tensor's data (it shrank after it was opened?)");
            got += n;
        }
    }

    /// <inheritdoc />
    public void Dispose() => file.Dispose();
}

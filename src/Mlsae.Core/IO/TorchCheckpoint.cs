using System.IO.Compression;
using TorchSharp;

namespace Mlsae.IO;

/// <summary>
/// A PyTorch checkpoint written by <c>torch.save</c> in the zip format (since PyTorch 1.6), such as
/// an HF <c>pytorch_model.bin</c>: <c>&lt;name&gt;/data.pkl</c> (the state dict, unpickled with
/// <see cref="RestrictedUnpickler"/>) and one <c>&lt;name&gt;/data/&lt;key&gt;</c> entry of raw
/// little-endian bytes per storage.
/// </summary>
/// <remarks>
/// Opening parses the pickle and checks every tensor's view against its storage entry
/// (<see cref="TorchStateDict"/>), touching no tensor code. Reading a tensor inflates only the
/// bytes of the storage up to the end of that tensor's view and allocates only the view's range,
/// so a small tensor in a huge (or hostile, zip-bomb) storage costs what the tensor costs.
/// </remarks>
public sealed class TorchCheckpoint : IWeightSource
{
    /// <summary>The largest <c>data.pkl</c> read (16 MiB; a state dict's pickle takes ~150 bytes per tensor).</summary>
    public const int MaxPickleBytes = 16 << 20;

    // Deflate cannot expand a byte to more than 1032 (RFC 1951: a 258-byte match per 2 bits, at best).
    const long MaxDeflateRatio = 1032;

    readonly ZipArchive zip;
    readonly string prefix;
    readonly Dictionary<string, TorchStateDict.TensorRef> tensors;

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Names => tensors.Keys;

    TorchCheckpoint(string path, ZipArchive zip, string prefix, Dictionary<string, TorchStateDict.TensorRef> tensors)
    {
        Path = path; this.zip = zip; this.prefix = prefix; this.tensors = tensors;
    }

    /// <summary>Opens and validates a checkpoint: every tensor's storage entry must exist and be
    /// large enough for its shape, stride and offset.</summary>
    public static TorchCheckpoint Open(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        FileStream file;
        try { file = File.OpenRead(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw MlsaeException.From($"{path}: cannot open", e); }
        return Open(path, file);
    }

    /// <summary>Opens a checkpoint from a seekable <paramref name="stream"/>, which the checkpoint
    /// then owns; <paramref name="path"/> names it in errors.</summary>
    public static TorchCheckpoint Open(string path, Stream stream)
    {
        long archiveBytes = stream.CanSeek ? stream.Length : long.MaxValue;
        ZipArchive? zip = null;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
            _ = zip.Entries;   // the central directory is read lazily, here, and cached
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            if (zip is null) stream.Dispose(); else zip.Dispose();
            throw MlsaeException.From(
                $"{path}: not a zip-format PyTorch checkpoint (corrupt, truncated, or saved with the legacy non-zip format)", e);
        }
        try
        {
            var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)
                && e.FullName.Count(c => c == '/') <= 1)
                ?? throw new MlsaeException($"{path}: zip entry '<name>/data.pkl' missing");
            string prefix = pkl.FullName[..^"data.pkl".Length];
            var pickle = ReadPickle(path, pkl);
            var tensors = TorchStateDict.Parse(pickle, $"{path} ({ContainedPath.Printable(pkl.FullName)})",
                (tensor, key) => StorageBytes(path, zip, prefix, archiveBytes, tensor, key));
            return new TorchCheckpoint(path, zip, prefix, tensors);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    static byte[] ReadPickle(string path, ZipArchiveEntry entry)
    {
        if (entry.Length > MaxPickleBytes)
            throw new MlsaeException($"{path}: '{ContainedPath.Printable(entry.FullName)}' is {entry.Length} bytes, over the {MaxPickleBytes}-byte limit for a state dict's pickle");
        var buffer = new MemoryStream();
        try
        {
            using var s = entry.Open();
            // The declared length may lie: read at most one byte past the limit, whatever it says.
            var chunk = new byte[81920];
            for (int n; (n = s.Read(chunk, 0, (int)Math.Min(chunk.Length, MaxPickleBytes + 1L - buffer.Length))) > 0;)
            {
                buffer.Write(chunk, 0, n);
                if (buffer.Length > MaxPickleBytes)
                    throw new MlsaeException($"{path}: '{ContainedPath.Printable(entry.FullName)}' inflates past the {MaxPickleBytes}-byte limit for a state dict's pickle");
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw MlsaeException.From($"{path}: corrupt zip entry '{ContainedPath.Printable(entry.FullName)}'", e);
        }
        return buffer.ToArray();
    }

    // The uncompressed size of a storage's zip entry, after checking it is one deflate could produce.
    static long StorageBytes(string path, ZipArchive zip, string prefix, long archiveBytes, string tensor, string key)
    {
        var entryName = prefix + "data/" + key;
        var entry = zip.GetEntry(entryName)
            ?? throw new MlsaeException($"{path}: tensor '{ContainedPath.Printable(tensor)}': zip entry '{ContainedPath.Printable(entryName)}' missing");
        if (entry.CompressedLength > archiveBytes
            || entry.Length > MaxDeflateRatio * Math.Max(entry.CompressedLength, 1) + 64)
            throw new MlsaeException(
                $"{path}: tensor '{ContainedPath.Printable(tensor)}': zip entry '{ContainedPath.Printable(entryName)}' declares {entry.Length} bytes from {entry.CompressedLength} compressed, which no zip of {archiveBytes} bytes holds (corrupt or hostile file)");
        return entry.Length;
    }

    TorchStateDict.TensorRef Get(string name) => tensors.TryGetValue(name, out var t) ? t
        : throw new MlsaeException($"{Path}: no tensor named '{ContainedPath.Printable(name)}'");

    /// <inheritdoc />
    public long[] Shape(string name) => Get(name).Size;

    /// <inheritdoc />
    public torch.ScalarType DType(string name) => Get(name).Type;

    /// <inheritdoc />
    public torch.Tensor Read(string name) => Read(name, TensorBytes.DefaultChunkBytes);

    /// <summary><see cref="Read(string)"/> in pieces of at most <paramref name="chunkBytes"/> bytes.</summary>
    internal torch.Tensor Read(string name, long chunkBytes)
    {
        var t = Get(name);
        if (t.End == t.Begin) return TensorBytes.Empty(Path, name, t.Size, t.Type);
        var entry = zip.GetEntry(prefix + "data/" + t.Key)!;
        long elementSize = SafeTensorsDType.ElementSize(t.Type);
        using var range = TensorBytes.Empty(Path, name, [t.End - t.Begin], t.Type);   // the elements the view spans, no more
        string where = $"{Path}: tensor '{ContainedPath.Printable(name)}'";
        try
        {
            using var s = entry.Open();
            Skip(s, t.Begin * elementSize, where);
            TensorBytes.ForEachChunk(range, chunkBytes, (chunk, offset) =>
            {
                for (int got = 0, n; got < chunk.Length; got += n)
                    if ((n = s.Read(chunk[got..])) == 0)
                        throw new MlsaeException(
                            $"{where}: storage '{ContainedPath.Printable(entry.FullName)}' ends after {t.Begin * elementSize + offset + got} bytes; the tensor's view needs {t.End * elementSize}");
            });
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw MlsaeException.From($"{where}: storage '{ContainedPath.Printable(entry.FullName)}' is corrupt", e);
        }
        var view = range.as_strided(t.Size, t.Stride, t.Offset - t.Begin);
        if (view.is_contiguous()) return view;
        using (view) return view.contiguous();   // compact: the result must not keep the range alive
    }

    static void Skip(Stream s, long bytes, string where)
    {
        var scratch = new byte[(int)Math.Min(bytes, 1 << 16)];
        for (long left = bytes; left > 0;)
        {
            int n = s.Read(scratch, 0, (int)Math.Min(left, scratch.Length));
            if (n == 0) throw new MlsaeException($"{where}: storage ends after {bytes - left} bytes, before the tensor's data at byte {bytes}");
            left -= n;
        }
    }

    /// <inheritdoc />
    public void Dispose() => zip.Dispose();
}

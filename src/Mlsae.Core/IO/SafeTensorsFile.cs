using System.IO.MemoryMappedFiles;
using System.Text.Json;
using TorchSharp;

namespace Mlsae.IO;

/// <summary>
/// A safetensors file opened for reading. The header is parsed and every entry validated up
/// front; tensor data is memory-mapped and copied once, straight into the tensor's storage.
/// </summary>
public sealed class SafeTensorsFile : IWeightSource
{
    /// <summary>One tensor's header entry.</summary>
    public sealed record Entry(string Name, string Code, torch.ScalarType Type, long[] Shape, long Begin, long End);

    readonly Dictionary<string, Entry> entries;
    readonly MemoryMappedFile? map;
    readonly MemoryMappedViewAccessor? view;
    readonly long dataStart;

    /// <inheritdoc />
    public string Path { get; }

    /// <summary>The optional <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Names => entries.Keys;

    /// <summary>The parsed header entries by name.</summary>
    public IReadOnlyDictionary<string, Entry> Entries => entries;

    SafeTensorsFile(string path, Dictionary<string, Entry> entries, IReadOnlyDictionary<string, string> metadata,
        MemoryMappedFile? map, MemoryMappedViewAccessor? view, long dataStart)
    {
        Path = path; this.entries = entries; Metadata = metadata; this.map = map; this.view = view; this.dataStart = dataStart;
    }

    /// <summary>Opens and validates a safetensors file. Bad files throw <see cref="MlsaeException"/>
    /// naming the file and, where there is one, the tensor.</summary>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        long length;
        byte[] header;
        // The stream's length, not FileInfo's: hub cache snapshots are symlinks into blobs/.
        using (var f = File.OpenRead(path))
        {
            length = f.Length;
            if (length < 8) throw new MlsaeException($"{path}: truncated safetensors file ({length} bytes, no header length)");
            byte[] prefix = new byte[8];
            f.ReadExactly(prefix);
            ulong headerLength = BitConverter.ToUInt64(prefix);
            if (headerLength > (ulong)(length - 8))
                throw new MlsaeException($"{path}: header length {headerLength} runs past the end of the file ({length} bytes)");
            header = new byte[headerLength];
            f.ReadExactly(header);
        }
        long dataStart = 8 + header.LongLength;
        long dataLength = length - dataStart;
        var (entries, metadata) = ParseHeader(path, header, dataLength);

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        if (length > 0 && entries.Values.Any(e => e.End > e.Begin))
        {
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        }
        return new SafeTensorsFile(path, entries, metadata, map, view, dataStart);
    }

    static (Dictionary<string, Entry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: corrupt safetensors header", e); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new MlsaeException($"{path}: corrupt safetensors header (not a JSON object)");
        var entries = new Dictionary<string, Entry>();
        var metadata = new Dictionary<string, string>();
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                if (prop.Value.ValueKind == JsonValueKind.Object)
                    foreach (var m in prop.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : m.Value.GetRawText();
                continue;
            }
            entries[prop.Name] = ParseEntry(path, prop.Name, prop.Value, dataLength);
        }
        var sorted = entries.Values.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new MlsaeException($"{path}: tensor '{sorted[i].Name}' overlaps tensor '{sorted[i - 1].Name}' in the data section");
        return (entries, metadata);
    }

    static Entry ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        string where = $"{path}: tensor '{name}'";
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("dtype", out var dt) || dt.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("shape", out var sh) || sh.ValueKind != JsonValueKind.Array
            || !e.TryGetProperty("data_offsets", out var off) || off.ValueKind != JsonValueKind.Array || off.GetArrayLength() != 2)
            throw new MlsaeException($"{where}: malformed header entry (needs dtype, shape and two data_offsets)");
        string code = dt.GetString()!;
        if (!SafeTensorsDType.TryParse(code, out var type, out int size))
            throw new MlsaeException($"{where}: unknown dtype '{code}'");
        var shape = new long[sh.GetArrayLength()];
        int i = 0;
        foreach (var d in sh.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0)
                throw new MlsaeException($"{where}: invalid shape {sh.GetRawText()}");
            shape[i++] = v;
        }
        if (!off[0].TryGetInt64(out long begin) || !off[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw new MlsaeException($"{where}: invalid data_offsets {off.GetRawText()}");
        if (end > dataLength)
            throw new MlsaeException($"{where}: data_offsets [{begin}, {end}] out of range (data section has {dataLength} bytes; file truncated?)");
        long numel = 1;
        foreach (var d in shape) numel = checked(numel * d);
        if (checked(numel * size) != end - begin)
            throw new MlsaeException($"{where}: shape {Tensors.Shapes.Format(shape)} x {code} needs {numel * size} bytes but data_offsets give {end - begin}");
        return new Entry(name, code, type, shape, begin, end);
    }

    Entry Get(string name) => entries.TryGetValue(name, out var e) ? e
        : throw new MlsaeException($"{Path}: no tensor named '{name}'");

    /// <inheritdoc />
    public long[] Shape(string name) => Get(name).Shape;

    /// <inheritdoc />
    public torch.ScalarType DType(string name) => Get(name).Type;

    /// <inheritdoc />
    public unsafe torch.Tensor Read(string name)
    {
        var e = Get(name);
        var tensor = torch.empty(e.Shape, e.Type);
        long count = e.End - e.Begin;
        if (count == 0) return tensor;
        var span = tensor.bytes;
        byte* basePtr = null;
        view!.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        try
        {
            byte* src = basePtr + view.PointerOffset + dataStart + e.Begin;
            new ReadOnlySpan<byte>(src, checked((int)count)).CopyTo(span);
        }
        finally { view.SafeMemoryMappedViewHandle.ReleasePointer(); }
        return tensor;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        view?.Dispose();
        map?.Dispose();
    }
}

using System.Text.Json;

namespace Mlsae.IO;

/// <summary>
/// The parsed, validated header of a safetensors file: every entry's dtype, shape and byte range,
/// and the <c>__metadata__</c> strings. Parsing touches no tensor code, so it is cheap to run on
/// untrusted input (and is what the fuzz harness exercises). Every problem is a one-line
/// <see cref="MlsaeException"/> naming the file and, where there is one, the tensor and field.
/// </summary>
public sealed class SafeTensorsHeader
{
    /// <summary>The largest header accepted (100 MB, the Python library's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The most dimensions a tensor may have.</summary>
    public const int MaxDims = 64;

    readonly Dictionary<string, SafeTensorsFile.Entry> entries;

    /// <summary>Entries by name.</summary>
    public IReadOnlyDictionary<string, SafeTensorsFile.Entry> Entries => entries;

    /// <summary>All tensor names.</summary>
    public IReadOnlyCollection<string> Names => entries.Keys;

    /// <summary>The <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Byte offset of the data section in the file: 8 + the header length.</summary>
    public long DataStart { get; }

    SafeTensorsHeader(Dictionary<string, SafeTensorsFile.Entry> entries, Dictionary<string, string> metadata, long dataStart)
    {
        this.entries = entries; Metadata = metadata; DataStart = dataStart;
    }

    /// <summary>Reads and validates the header of the safetensors file in <paramref name="stream"/>
    /// (seekable, positioned at its start; its length is the file's). <paramref name="path"/> names
    /// the file in errors.</summary>
    public static SafeTensorsHeader Read(string path, Stream stream)
    {
        long length = stream.Length;
        if (length < 8) throw new MlsaeException($"{path}: truncated safetensors file ({length} bytes, no header length)");
        var prefix = new byte[8];
        ReadExactly(path, stream, prefix);
        ulong headerLength = BitConverter.ToUInt64(prefix);
        if (headerLength > (ulong)(length - 8))
            throw new MlsaeException($"{path}: header length {headerLength} runs past the end of the file ({length} bytes)");
        if (headerLength > MaxHeaderBytes)
            throw new MlsaeException($"{path}: header length {headerLength} is over the {MaxHeaderBytes}-byte limit (not a safetensors file?)");
        var header = new byte[headerLength];
        ReadExactly(path, stream, header);
        long dataStart = 8 + header.LongLength;
        return Parse(path, header, dataStart, length - dataStart);
    }

    static void ReadExactly(string path, Stream stream, byte[] buffer)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw new MlsaeException($"{path}: truncated safetensors file (it shrank while being read?)"); }
        catch (IOException e) { throw MlsaeException.From($"{path}: read failed", e); }
    }

    /// <summary>Validates the JSON header <paramref name="json"/> of a file whose data section
    /// starts at <paramref name="dataStart"/> and holds <paramref name="dataLength"/> bytes.</summary>
    public static SafeTensorsHeader Parse(string path, ReadOnlyMemory<byte> json, long dataStart, long dataLength)
    {
        using var doc = JsonText.Parse(json, $"{path}: corrupt safetensors header", offset: 8);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new MlsaeException($"{path}: corrupt safetensors header (not a JSON object)");
        var entries = new Dictionary<string, SafeTensorsFile.Entry>(StringComparer.Ordinal);
        Dictionary<string, string>? metadata = null;
        foreach (var prop in doc.RootElement.EnumerateObject())
        {
            if (prop.Name == "__metadata__")
            {
                if (metadata is not null) throw new MlsaeException($"{path}: '__metadata__' appears twice in the header");
                metadata = ParseMetadata(path, prop.Value);
                continue;
            }
            if (entries.ContainsKey(prop.Name))
                throw new MlsaeException($"{path}: tensor '{ContainedPath.Printable(prop.Name)}' appears twice in the header");
            entries[prop.Name] = ParseEntry(path, prop.Name, prop.Value, dataLength);
        }
        var sorted = entries.Values.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToList();
        for (int i = 1; i < sorted.Count; i++)
            if (sorted[i].Begin < sorted[i - 1].End)
                throw new MlsaeException(
                    $"{path}: tensor '{ContainedPath.Printable(sorted[i].Name)}' overlaps tensor '{ContainedPath.Printable(sorted[i - 1].Name)}' in the data section");
        return new SafeTensorsHeader(entries, metadata ?? [], dataStart);
    }

    static Dictionary<string, string> ParseMetadata(string path, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new MlsaeException($"{path}: '__metadata__' must be an object of strings, not {Kind(value)}");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new MlsaeException($"{path}: '__metadata__' must be an object of strings; '{ContainedPath.Printable(m.Name)}' is {Kind(m.Value)}");
            if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                throw new MlsaeException($"{path}: '__metadata__' key '{ContainedPath.Printable(m.Name)}' appears twice");
        }
        return metadata;
    }

    static SafeTensorsFile.Entry ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        string where = $"{path}: tensor '{ContainedPath.Printable(name)}'";
        if (e.ValueKind != JsonValueKind.Object)
            throw new MlsaeException($"{where}: header entry must be an object with dtype, shape and data_offsets, not {Kind(e)}");
        var dt = Field(where, e, "dtype", JsonValueKind.String);
        var sh = Field(where, e, "shape", JsonValueKind.Array);
        var off = Field(where, e, "data_offsets", JsonValueKind.Array);

        string code = dt.GetString()!;
        if (!SafeTensorsDType.TryParse(code, out var type, out int size))
            throw new MlsaeException($"{where}: unknown dtype '{ContainedPath.Printable(code)}'");

        int rank = sh.GetArrayLength();
        if (rank > MaxDims) throw new MlsaeException($"{where}: shape has {rank} dimensions (at most {MaxDims} are supported)");
        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            var d = sh[i];
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out shape[i]) || shape[i] < 0)
                throw new MlsaeException($"{where}: invalid shape {Raw(sh)} (dimension {i} is not a non-negative integer)");
        }
        long numel = Numel(shape) ?? throw new MlsaeException($"{where}: shape {Raw(sh)} has more than 2^63 elements");
        long bytes = numel <= long.MaxValue / size ? numel * size
            : throw new MlsaeException($"{where}: shape {Raw(sh)} x {code} is more than 2^63 bytes");

        if (off.GetArrayLength() != 2 || !Offset(off[0], out long begin) || !Offset(off[1], out long end) || end < begin)
            throw new MlsaeException($"{where}: invalid data_offsets {Raw(off)} (need [begin, end], integers with 0 <= begin <= end)");
        if (end > dataLength)
            throw new MlsaeException($"{where}: data_offsets [{begin}, {end}] out of range (data section has {dataLength} bytes; file truncated?)");
        if (bytes != end - begin)
            throw new MlsaeException($"{where}: shape {Tensors.Shapes.Format(shape)} x {code} needs {bytes} bytes but data_offsets give {end - begin}");
        return new SafeTensorsFile.Entry(name, code, type, shape, begin, end);
    }

    static JsonElement Field(string where, JsonElement entry, string key, JsonValueKind kind)
    {
        if (!entry.TryGetProperty(key, out var value))
            throw new MlsaeException($"{where}: header entry has no '{key}' (needs dtype, shape and data_offsets)");
        return value.ValueKind == kind ? value
            : throw new MlsaeException($"{where}: '{key}' must be {(kind == JsonValueKind.String ? "a string" : "an array")}, not {Kind(value)}");
    }

    static bool Offset(JsonElement e, out long value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out value) && value >= 0;
    }

    /// <summary>The product of <paramref name="shape"/>, or null past <see cref="long.MaxValue"/>
    /// (a shape with a zero has no elements, whatever its other dimensions).</summary>
    internal static long? Numel(IReadOnlyList<long> shape)
    {
        if (shape.Contains(0)) return 0;
        long numel = 1;
        foreach (var d in shape)
        {
            if (numel > long.MaxValue / d) return null;
            numel *= d;
        }
        return numel;
    }

    static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    // Header text from the file, fit for a one-line message.
    static string Raw(JsonElement e) => ContainedPath.Printable(e.GetRawText());
}

using System.IO.Compression;
using TorchSharp;

namespace Mlsae.IO;

/// <summary>
/// A PyTorch checkpoint written by <c>torch.save</c> in the zip format (since PyTorch 1.6), such as
/// an HF <c>pytorch_model.bin</c>: <c>&lt;name&gt;/data.pkl</c> (the state dict, unpickled with
/// <see cref="RestrictedUnpickler"/>) and one <c>&lt;name&gt;/data/&lt;key&gt;</c> entry of raw
/// little-endian bytes per storage.
/// </summary>
public sealed class TorchCheckpoint : IWeightSource
{
    sealed record StorageRef(string Key, torch.ScalarType Type);
    sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);

    static readonly Dictionary<string, torch.ScalarType> StorageTypes = new()
    {
        ["FloatStorage"] = torch.ScalarType.Float32, ["DoubleStorage"] = torch.ScalarType.Float64,
        ["HalfStorage"] = torch.ScalarType.Float16, ["BFloat16Storage"] = torch.ScalarType.BFloat16,
        ["LongStorage"] = torch.ScalarType.Int64, ["IntStorage"] = torch.ScalarType.Int32,
        ["ShortStorage"] = torch.ScalarType.Int16, ["CharStorage"] = torch.ScalarType.Int8,
        ["ByteStorage"] = torch.ScalarType.Byte, ["BoolStorage"] = torch.ScalarType.Bool,
    };

    readonly ZipArchive zip;
    readonly string prefix;
    readonly Dictionary<string, TensorRef> tensors;

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Names => tensors.Keys;

    TorchCheckpoint(string path, ZipArchive zip, string prefix, Dictionary<string, TensorRef> tensors)
    {
        Path = path; this.zip = zip; this.prefix = prefix; this.tensors = tensors;
    }

    /// <summary>Opens and validates a checkpoint: every tensor's storage entry must exist and be
    /// large enough for its shape, stride and offset.</summary>
    public static TorchCheckpoint Open(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException)
        {
            throw new MlsaeException($"{path}: not a zip-format PyTorch checkpoint (corrupt, truncated, or saved with the legacy non-zip format)");
        }
        try
        {
            var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)
                && e.FullName.Count(c => c == '/') <= 1)
                ?? throw new MlsaeException($"{path}: zip entry '<name>/data.pkl' missing");
            string prefix = pkl.FullName[..^"data.pkl".Length];
            object? root;
            using (var s = OpenEntry(path, pkl))
                root = RestrictedUnpickler.Load(s, $"{path} ({pkl.FullName})", PersistentLoad(path), Rebuild(path));
            if (root is not Dictionary<object, object?> dict)
                throw new MlsaeException($"{path}: the pickle is not a state dict");
            var tensors = new Dictionary<string, TensorRef>();
            foreach (var (k, v) in dict)
                if (k is string name && v is TensorRef t)
                {
                    Validate(path, zip, prefix, name, t);
                    tensors[name] = t;
                }
            return new TorchCheckpoint(path, zip, prefix, tensors);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    static Stream OpenEntry(string path, ZipArchiveEntry entry)
    {
        try { return entry.Open(); }
        catch (InvalidDataException e) { throw new MlsaeException($"{path}: corrupt zip entry '{entry.FullName}' ({e.Message})"); }
    }

    static Func<object, object> PersistentLoad(string path) => pid =>
    {
        // ('storage', storage_type, key, location, numel)
        if (pid is not object?[] { Length: >= 4 } t || t[0] as string != "storage"
            || t[1] is not RestrictedUnpickler.Global g || t[2] is not string key)
            throw new MlsaeException($"{path}: unexpected persistent id in pickle");
        if (!StorageTypes.TryGetValue(g.Name, out var type))
            throw new MlsaeException($"{path}: unsupported storage type '{g}'");
        return new StorageRef(key, type);
    };

    static Func<RestrictedUnpickler.Global, object?[], object> Rebuild(string path) => (g, args) =>
    {
        switch (g.Name)
        {
            case "_rebuild_tensor_v2" or "_rebuild_tensor" when args.Length >= 4 && args[0] is StorageRef s:
                return new TensorRef(s, Convert.ToInt64(args[1]), Longs(path, args[2]), Longs(path, args[3]));
            case "_rebuild_parameter" when args.Length >= 1 && args[0] is TensorRef t:
                return t;
            default:
                throw new MlsaeException($"{path}: unexpected call of '{g}' in pickle");
        }
    };

    static long[] Longs(string path, object? v) => v is object?[] a
        ? a.Select(x => x is long l ? l : throw new MlsaeException($"{path}: non-integer size in pickle")).ToArray()
        : throw new MlsaeException($"{path}: expected a tuple of sizes in pickle");

    static void Validate(string path, ZipArchive zip, string prefix, string name, TensorRef t)
    {
        var entryName = prefix + "data/" + t.Storage.Key;
        var entry = zip.GetEntry(entryName)
            ?? throw new MlsaeException($"{path}: tensor '{name}': zip entry '{entryName}' missing");
        long size = SafeTensorsDType.ElementSize(t.Storage.Type);
        long extent = t.Offset + 1;
        bool empty = false;
        for (int i = 0; i < t.Size.Length; i++)
        {
            if (t.Size[i] == 0) empty = true;
            extent += (t.Size[i] - 1) * t.Stride[i];
        }
        if (!empty && extent * size > entry.Length)
            throw new MlsaeException(
                $"{path}: tensor '{name}': shape {Tensors.Shapes.Format(t.Size)} needs {extent * size} bytes of storage '{entryName}', which has {entry.Length}");
    }

    TensorRef Get(string name) => tensors.TryGetValue(name, out var t) ? t
        : throw new MlsaeException($"{Path}: no tensor named '{name}'");

    /// <inheritdoc />
    public long[] Shape(string name) => Get(name).Size;

    /// <inheritdoc />
    public torch.ScalarType DType(string name) => Get(name).Storage.Type;

    /// <inheritdoc />
    public torch.Tensor Read(string name)
    {
        var t = Get(name);
        var entry = zip.GetEntry(prefix + "data/" + t.Storage.Key)!;
        long size = SafeTensorsDType.ElementSize(t.Storage.Type);
        using var storage = torch.empty(entry.Length / size, t.Storage.Type);
        using (var s = OpenEntry(Path, entry))
        {
            try { s.ReadExactly(storage.bytes); }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException)
            {
                throw new MlsaeException($"{Path}: tensor '{name}': storage entry is truncated or corrupt");
            }
        }
        using var view = storage.as_strided(t.Size, t.Stride, t.Offset);
        // One copy, compact and contiguous: the result must not keep the whole storage alive.
        return view.is_contiguous() ? view.clone() : view.contiguous();
    }

    /// <inheritdoc />
    public void Dispose() => zip.Dispose();
}

using TorchSharp;

namespace Mlsae.IO;

/// <summary>
/// The tensors of a <c>torch.save</c> state dict pickle, as references into storages: what
/// <see cref="TorchCheckpoint"/> opens, without tensor code (so the fuzz harness can run it
/// alone). Every view is checked against its storage here, with the tensor's name in each error.
/// </summary>
internal static class TorchStateDict
{
    /// <summary>A tensor view: <see cref="Size"/> and <see cref="Stride"/> (elements) from
    /// <see cref="Offset"/> in storage <see cref="Key"/>; it reads elements
    /// [<see cref="Begin"/>, <see cref="End"/>) of the storage and nothing else.</summary>
    public sealed record TensorRef(string Key, torch.ScalarType Type, long Offset, long[] Size, long[] Stride, long Begin, long End);

    // ('storage', storage_type, key, location, numel) after persistent_load.
    sealed record StorageRef(string Key, torch.ScalarType Type, long? Numel);

    // The arguments of _rebuild_tensor(_v2), checked once the tensor's name is known.
    sealed record Rebuilt(string Function, object?[] Args);

    static readonly Dictionary<string, torch.ScalarType> StorageTypes = new()
    {
        ["FloatStorage"] = torch.ScalarType.Float32, ["DoubleStorage"] = torch.ScalarType.Float64,
        ["HalfStorage"] = torch.ScalarType.Float16, ["BFloat16Storage"] = torch.ScalarType.BFloat16,
        ["LongStorage"] = torch.ScalarType.Int64, ["IntStorage"] = torch.ScalarType.Int32,
        ["ShortStorage"] = torch.ScalarType.Int16, ["CharStorage"] = torch.ScalarType.Int8,
        ["ByteStorage"] = torch.ScalarType.Byte, ["BoolStorage"] = torch.ScalarType.Bool,
    };

    /// <summary>
    /// The tensors of the state dict pickled in <paramref name="pickle"/> (non-tensor values are
    /// skipped). <paramref name="storageBytes"/> gives the byte length of a storage by (tensor
    /// name, key), throwing when it is missing. <paramref name="source"/> names the pickle in errors.
    /// </summary>
    public static Dictionary<string, TensorRef> Parse(byte[] pickle, string source, Func<string, string, long> storageBytes)
    {
        var root = RestrictedUnpickler.Load(pickle, source, PersistentLoad(source), Rebuild(source));
        if (root is not Dictionary<object, object?> dict)
            throw new MlsaeException($"{source}: the pickle is not a state dict (its top object is {Describe(root)})");
        var tensors = new Dictionary<string, TensorRef>(StringComparer.Ordinal);
        foreach (var (k, v) in dict)
            if (k is string name && v is Rebuilt r)
                tensors[name] = Check(source, name, r, storageBytes);
        return tensors;
    }

    static Func<object?, object> PersistentLoad(string source) => pid =>
    {
        if (pid is not object?[] { Length: >= 4 } t || t[0] as string != "storage"
            || t[1] is not RestrictedUnpickler.Global g || t[2] is not string key)
            throw new MlsaeException($"{source}: unexpected persistent id in pickle (expected ('storage', type, key, location, numel))");
        if (!StorageTypes.TryGetValue(g.Name, out var type))
            throw new MlsaeException($"{source}: unsupported storage type '{g}'");
        long? numel = t.Length > 4 ? t[4] as long? ?? throw new MlsaeException($"{source}: storage '{ContainedPath.Printable(key)}' has a non-integer size") : null;
        return new StorageRef(key, type, numel);
    };

    static Func<RestrictedUnpickler.Global, object?[], object> Rebuild(string source) => (g, args) => g.Name switch
    {
        "_rebuild_tensor_v2" or "_rebuild_tensor" => new Rebuilt(g.Name, args),
        "_rebuild_parameter" when args.Length >= 1 && args[0] is Rebuilt t => t,
        _ => throw new MlsaeException($"{source}: unexpected call of '{g}' in pickle"),
    };

    static TensorRef Check(string source, string name, Rebuilt r, Func<string, string, long> storageBytes)
    {
        string where = $"{source}: tensor '{ContainedPath.Printable(name)}'";
        var a = r.Args;
        if (a.Length < 4) throw new MlsaeException($"{where}: {r.Function} needs (storage, offset, size, stride), got {a.Length} arguments");
        var storage = a[0] as StorageRef ?? throw new MlsaeException($"{where}: {r.Function}'s first argument is {Describe(a[0])}, not a storage");
        long offset = a[1] is long o && o >= 0 ? o : throw new MlsaeException($"{where}: storage offset {Describe(a[1])} is not a non-negative integer");
        var size = Longs(where, "size", a[2]);
        var stride = Longs(where, "stride", a[3]);
        if (size.Length != stride.Length)
            throw new MlsaeException($"{where}: size {Tensors.Shapes.Format(size)} and stride {Tensors.Shapes.Format(stride)} differ in length");
        if (size.Length > SafeTensorsHeader.MaxDims)
            throw new MlsaeException($"{where}: {size.Length} dimensions (at most {SafeTensorsHeader.MaxDims} are supported)");

        long elementSize = SafeTensorsDType.ElementSize(storage.Type);
        long bytes = storageBytes(name, storage.Key);
        long numel = SafeTensorsHeader.Numel(size) ?? throw new MlsaeException($"{where}: size {Tensors.Shapes.Format(size)} has more than 2^63 elements");
        if (storage.Numel is long declared && (declared < 0 || declared > bytes / elementSize))
            throw new MlsaeException(
                $"{where}: storage '{ContainedPath.Printable(storage.Key)}' declares {declared} elements of {elementSize} bytes but its zip entry holds {bytes} bytes");
        if (numel == 0) return new TensorRef(storage.Key, storage.Type, offset, size, stride, 0, 0);

        // The last element the view touches, in 128 bits: a hostile offset or stride must not wrap around.
        Int128 last = offset;
        for (int i = 0; i < size.Length; i++) last += (Int128)(size[i] - 1) * stride[i];
        Int128 needed = (last + 1) * elementSize;
        if (needed > bytes)
            throw new MlsaeException(
                $"{where}: size {Tensors.Shapes.Format(size)}, stride {Tensors.Shapes.Format(stride)}, offset {offset} need {needed} bytes of storage '{ContainedPath.Printable(storage.Key)}', which has {bytes}");
        long end = (long)last + 1;
        // A view with more elements than the range it spans repeats elements (stride 0, as expand
        // makes): reading it would allocate more than the file holds, so it is refused.
        if (numel > end - offset)
            throw new MlsaeException(
                $"{where}: size {Tensors.Shapes.Format(size)} with stride {Tensors.Shapes.Format(stride)} repeats storage elements (expanded views are not supported)");
        return new TensorRef(storage.Key, storage.Type, offset, size, stride, offset, end);
    }

    static long[] Longs(string where, string what, object? v)
    {
        if (v is not object?[] items) throw new MlsaeException($"{where}: {what} is {Describe(v)}, not a tuple of integers");
        var result = new long[items.Length];
        for (int i = 0; i < items.Length; i++)
            result[i] = items[i] is long l && l >= 0 ? l
                : throw new MlsaeException($"{where}: {what}[{i}] is {Describe(items[i])}, not a non-negative integer");
        return result;
    }

    static string Describe(object? v) => v switch
    {
        null => "None",
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        string s => $"the string '{ContainedPath.Printable(s)}'",
        object?[] t => $"a tuple of {t.Length}",
        _ => $"a {v.GetType().Name}",
    };
}

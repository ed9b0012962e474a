using System.Text;
using TorchSharp;

namespace Mlsae.IO;

/// <summary>
/// Writes a state dict as <c>torch.save</c> does (the zip format), so that Python's
/// <c>torch.load</c> reads it: <c>data.pkl</c> (pickle protocol 2: the dict of
/// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())</c>
/// calls, each storage a persistent id <c>('storage', torch.FloatStorage, key, 'cpu', numel)</c>),
/// optionally <c>byteorder</c>, one <c>data/&lt;key&gt;</c> record of raw little-endian bytes per
/// tensor (keys <c>0, 1, …</c> in dict order, records sorted by key as strings, as PyTorch
/// sorts them), <c>version</c> (<c>3</c>), optionally <c>.data/serialization_id</c>.
/// The file is written atomically; <see cref="TorchCheckpoint"/> reads it back.
/// </summary>
public static class TorchCheckpointWriter
{
    static readonly Dictionary<torch.ScalarType, string> StorageTypes = new()
    {
        [torch.ScalarType.Float32] = "FloatStorage", [torch.ScalarType.Float64] = "DoubleStorage",
        [torch.ScalarType.Float16] = "HalfStorage", [torch.ScalarType.BFloat16] = "BFloat16Storage",
        [torch.ScalarType.Int64] = "LongStorage", [torch.ScalarType.Int32] = "IntStorage",
        [torch.ScalarType.Int16] = "ShortStorage", [torch.ScalarType.Int8] = "CharStorage",
        [torch.ScalarType.Byte] = "ByteStorage", [torch.ScalarType.Bool] = "BoolStorage",
    };

    /// <summary>Writes <paramref name="tensors"/> (in this order; any device, any layout; not
    /// disposed) to <paramref name="path"/>.</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, torch.Tensor>> tensors, TorchSaveOptions? options = null)
    {
        options ??= new TorchSaveOptions();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, t) in tensors)
        {
            if (!names.Add(name)) throw new MlsaeException($"{path}: tensor '{name}' appears twice in the state dict");
            if (!StorageTypes.ContainsKey(t.dtype)) throw new MlsaeException($"{path}: tensor '{name}' has dtype {t.dtype}, which torch checkpoints here do not store");
        }
        var pickle = Pickle(tensors, options.ModuleMetadata);
        string archive = options.ArchiveName ?? Path.GetFileNameWithoutExtension(path);
        if (archive.Length == 0 || archive.Contains('/')) throw new MlsaeException($"{path}: '{archive}' is not a torch archive name");
        AtomicFile.Write(path, stream =>
        {
            var zip = new TorchZipWriter(stream, archive);
            zip.Record("data.pkl", pickle);
            if (options.ByteOrderRecord) zip.Record("byteorder", "little"u8);
            foreach (int key in Enumerable.Range(0, tensors.Count).OrderBy(k => k.ToString(), StringComparer.Ordinal))
            {
                using var cpu = tensors[key].Value.detach().cpu().contiguous();
                zip.Record($"data/{key}", cpu.numel() == 0 ? [] : cpu.bytes);
            }
            zip.Record("version", "3\n"u8);
            if (options.SerializationId) zip.Record(".data/serialization_id", Encoding.ASCII.GetBytes(SerializationId(zip)));
            zip.Finish();
        });
    }

    /// <summary>The state dict's pickle, opcode for opcode as Python's pickler writes it for
    /// <c>torch.save</c> (a plain dict root, or an <c>OrderedDict</c> with <c>_metadata</c>).</summary>
    internal static byte[] Pickle(IReadOnlyList<KeyValuePair<string, torch.Tensor>> tensors, IReadOnlyList<string>? metadata)
    {
        var p = new PickleWriter();
        if (metadata is null) p.EmptyDict();
        else
        {
            p.Global("collections", "OrderedDict");
            p.EmptyTuple();
            p.Reduce();
        }
        SetItems(p, tensors.Count, i => { p.String(tensors[i].Key); Tensor(p, tensors[i].Value, i); });
        if (metadata is not null)
        {
            // OrderedDict.__reduce__ gives its instance dict as the state: {'_metadata': OrderedDict(prefix → {'version': 1})}.
            p.EmptyDict();
            p.String("_metadata");
            p.Global("collections", "OrderedDict");
            p.EmptyTuple();
            p.Reduce();
            SetItems(p, metadata.Count, i =>
            {
                p.String(metadata[i]);
                p.EmptyDict();
                p.String("version");
                p.Int(1);
                p.SetItems(marked: false);
            });
            p.SetItems(marked: false);
            p.Build();
        }
        p.Stop();
        return p.ToArray();
    }

    // Python's _batch_setitems: batches of 1000; a batch of one is SETITEM, more are MARK … SETITEMS.
    static void SetItems(PickleWriter p, int count, Action<int> item)
    {
        for (int start = 0; start < count; start += 1000)
        {
            int n = Math.Min(1000, count - start);
            if (n > 1) p.Mark();
            for (int i = start; i < start + n; i++) item(i);
            p.SetItems(marked: n > 1);
        }
    }

    // Tensor.__reduce_ex__: _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks).
    static void Tensor(PickleWriter p, torch.Tensor t, int key)
    {
        p.Global("torch._utils", "_rebuild_tensor_v2");
        p.Mark();
        p.Mark();
        p.String("storage");
        p.Global("torch", StorageTypes[t.dtype]);
        p.String(key.ToString(System.Globalization.CultureInfo.InvariantCulture));
        p.String("cpu");
        p.Int(t.numel());
        p.Tuple(5);
        p.PersistentId();
        p.Int(0);
        p.IntTuple(t.shape);
        p.IntTuple(ContiguousStrides(t.shape));
        p.Bool(false);
        p.Global("collections", "OrderedDict");
        p.EmptyTuple();
        p.Reduce();
        p.Tuple(6);
        p.Reduce();
    }

    static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
        return strides;
    }

    // 40 digits like PyTorch's (20 for the record names, 20 for the records' CRC-32s combined with
    // c10::hash_combine). PyTorch hashes names with std::hash, which is not portable, so the first
    // half is FNV-1a here; torch.load reads the id only to log it.
    static string SerializationId(TorchZipWriter zip)
    {
        ulong names = 14695981039346656037;
        foreach (var b in zip.Names.SelectMany(n => Encoding.UTF8.GetBytes(n + "\0"))) names = (names ^ b) * 1099511628211;
        ulong crcs = 0;
        foreach (var crc in zip.Checksums) crcs ^= crc + 0x9e3779b9UL + (crcs << 6) + (crcs >> 2);
        return $"{names:D20}{crcs:D20}";
    }
}

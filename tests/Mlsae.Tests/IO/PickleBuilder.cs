using System.Text;

namespace Mlsae.Tests.IO;

/// <summary>One tensor of a hand-built state dict: <paramref name="Size"/> and <paramref name="Stride"/>
/// (elements) from <paramref name="Offset"/> in storage <paramref name="Key"/> of <paramref name="Numel"/> elements.</summary>
public sealed record TensorSpec(string Name, string Key, long Numel, long Offset, long[] Size, long[] Stride, string StorageType = "FloatStorage");

/// <summary>
/// Writes pickles opcode by opcode: state dicts laid out as <c>torch.save</c> writes them
/// (protocol 2: an OrderedDict of <c>_rebuild_tensor_v2(persistent storage, offset, size, stride,
/// False, OrderedDict())</c>), and, through <see cref="Raw"/>, anything a hostile file might hold.
/// </summary>
public sealed class PickleBuilder
{
    readonly MemoryStream bytes = new();

    /// <summary>The pickle so far.</summary>
    public byte[] ToArray() => bytes.ToArray();

    /// <summary>Appends raw bytes (opcodes and operands).</summary>
    public PickleBuilder Raw(params byte[] b) { bytes.Write(b); return this; }

    public PickleBuilder Proto() => Raw(0x80, 2);
    public PickleBuilder Mark() => Raw((byte)'(');
    public PickleBuilder Tuple() => Raw((byte)'t');
    public PickleBuilder Global(string module, string name) => Raw([(byte)'c', .. Encoding.ASCII.GetBytes($"{module}\n{name}\n")]);
    public PickleBuilder OrderedDict() => Global("collections", "OrderedDict").Raw((byte)')', (byte)'R');

    /// <summary>BINUNICODE: opcode, 4-byte length, UTF-8.</summary>
    public PickleBuilder Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        return Raw([(byte)'X', .. BitConverter.GetBytes(b.Length), .. b]);
    }

    /// <summary>BININT for 32-bit values, LONG1 (8 bytes) otherwise.</summary>
    public PickleBuilder Int(long v) => v is >= int.MinValue and <= int.MaxValue
        ? Raw([(byte)'J', .. BitConverter.GetBytes((int)v)])
        : Raw([0x8a, 8, .. BitConverter.GetBytes(v)]);

    public PickleBuilder Ints(long[] values)
    {
        Mark();
        foreach (var v in values) Int(v);
        return Tuple();
    }

    /// <summary>BINPERSID of ('storage', torch.&lt;type&gt;, key, 'cpu', numel).</summary>
    public PickleBuilder Storage(string type, string key, long numel) =>
        Mark().Str("storage").Global("torch", type).Str(key).Str("cpu").Int(numel).Tuple().Raw((byte)'Q');

    /// <summary><c>_rebuild_tensor_v2</c> with <paramref name="offset"/> written by the caller (so a test can put anything there).</summary>
    public PickleBuilder Tensor(TensorSpec t, Action<PickleBuilder>? offset = null)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark().Storage(t.StorageType, t.Key, t.Numel);
        if (offset is null) Int(t.Offset); else offset(this);
        return Ints(t.Size).Ints(t.Stride).Raw(0x89).OrderedDict().Tuple().Raw((byte)'R');
    }

    /// <summary>A whole state dict pickle of <paramref name="tensors"/>, as torch.save writes one.</summary>
    public static byte[] StateDict(params TensorSpec[] tensors)
    {
        var p = new PickleBuilder().Proto().OrderedDict().Mark();
        foreach (var t in tensors) p.Str(t.Name).Tensor(t);
        return p.Raw((byte)'u', (byte)'.').ToArray();
    }
}

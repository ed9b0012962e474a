using System.Buffers.Binary;
using System.Text;

namespace Mlsae.IO;

/// <summary>
/// Writes a pickle (protocol 2, the one <c>torch.save</c> uses) opcode by opcode, with Python's
/// memo rules for what a state dict holds: every string, tuple and reduce result gets a
/// <c>BINPUT</c>, and a global or a string seen before is a <c>BINGET</c> of its first memo slot
/// (Python memoizes by object identity; the strings a state dict repeats — <c>'storage'</c>, the
/// location, dict keys such as <c>'version'</c> — are one object each there).
/// </summary>
/// <remarks>The caller emits the opcodes in the order Python's pickler would; this class only
/// encodes them. <see cref="RestrictedUnpickler"/> is the reader.</remarks>
public sealed class PickleWriter
{
    readonly MemoryStream bytes = new();
    readonly Dictionary<string, int> strings = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> globals = new(StringComparer.Ordinal);
    int memo;

    /// <summary>Starts the stream with <c>PROTO 2</c>.</summary>
    public PickleWriter() => Op(0x80, 2);

    /// <summary>The pickle so far.</summary>
    public byte[] ToArray() => bytes.ToArray();

    void Op(params byte[] code) => bytes.Write(code);

    /// <summary>Stores the top of the stack in the next memo slot (<c>BINPUT</c>, <c>LONG_BINPUT</c> past 255) and returns the slot.</summary>
    public int Memoize()
    {
        int slot = memo++;
        if (slot < 256) Op((byte)'q', (byte)slot);
        else { Op((byte)'r'); Int32(slot); }
        return slot;
    }

    void Get(int slot)
    {
        if (slot < 256) Op((byte)'h', (byte)slot);
        else { Op((byte)'j'); Int32(slot); }
    }

    void Int32(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        bytes.Write(b);
    }

    /// <summary><c>GLOBAL module\nname\n</c>, memoized; a global seen before is fetched from the memo.</summary>
    public void Global(string module, string name)
    {
        string key = module + "\n" + name;
        if (globals.TryGetValue(key, out int slot)) { Get(slot); return; }
        Op((byte)'c');
        bytes.Write(Encoding.ASCII.GetBytes(key + "\n"));
        globals[key] = Memoize();
    }

    /// <summary>A str (<c>BINUNICODE</c>), memoized; a string seen before is fetched from the memo.</summary>
    public void String(string value)
    {
        if (strings.TryGetValue(value, out int slot)) { Get(slot); return; }
        var utf8 = Encoding.UTF8.GetBytes(value);
        Op((byte)'X');
        Int32(utf8.Length);
        bytes.Write(utf8);
        strings[value] = Memoize();
    }

    /// <summary>An int: <c>BININT1</c>, <c>BININT2</c> or <c>BININT</c> by size, as Python chooses; <c>LONG1</c> beyond 32 bits.</summary>
    public void Int(long value)
    {
        if (value is >= 0 and < 256) Op((byte)'K', (byte)value);
        else if (value is >= 0 and < 65536) { Op((byte)'M', (byte)value, (byte)(value >> 8)); }
        else if (value is >= int.MinValue and <= int.MaxValue) { Op((byte)'J'); Int32((int)value); }
        else
        {
            // LONG1: little-endian two's complement, as short as the sign allows.
            var b = new System.Numerics.BigInteger(value).ToByteArray();
            Op(0x8a, (byte)b.Length);
            bytes.Write(b);
        }
    }

    /// <summary><c>NEWTRUE</c> / <c>NEWFALSE</c>.</summary>
    public void Bool(bool value) => Op(value ? (byte)0x88 : (byte)0x89);

    /// <summary><c>MARK</c>.</summary>
    public void Mark() => Op((byte)'(');

    /// <summary><c>EMPTY_TUPLE</c> (never memoized, as in Python).</summary>
    public void EmptyTuple() => Op((byte)')');

    /// <summary><c>EMPTY_DICT</c>, memoized.</summary>
    public void EmptyDict() { Op((byte)'}'); Memoize(); }

    /// <summary>Closes a tuple of <paramref name="count"/> items pushed since the matching
    /// <see cref="Mark"/> (for 1–3 items no mark is pushed: <c>TUPLE1..3</c>), memoized.</summary>
    public void Tuple(int count)
    {
        Op(count switch { 1 => 0x85, 2 => 0x86, 3 => 0x87, _ => (byte)'t' });
        Memoize();
    }

    /// <summary>Whether a tuple of <paramref name="count"/> items needs a <see cref="Mark"/> first (Python: 0 or more than 3).</summary>
    public static bool TupleNeedsMark(int count) => count > 3;

    /// <summary>A tuple of ints (a tensor's size or stride), as Python writes it.</summary>
    public void IntTuple(IReadOnlyList<long> values)
    {
        if (values.Count == 0) { EmptyTuple(); return; }
        if (TupleNeedsMark(values.Count)) Mark();
        foreach (var v in values) Int(v);
        Tuple(values.Count);
    }

    /// <summary><c>REDUCE</c>: calls the callable below the argument tuple; the result is memoized.</summary>
    public void Reduce() { Op((byte)'R'); Memoize(); }

    /// <summary><c>BINPERSID</c>: the top of the stack is a persistent id.</summary>
    public void PersistentId() => Op((byte)'Q');

    /// <summary><c>SETITEM</c> (one key/value pair) or <c>SETITEMS</c> (pairs since a mark).</summary>
    public void SetItems(bool marked) => Op(marked ? (byte)'u' : (byte)'s');

    /// <summary><c>BUILD</c>: sets the state below on the object below it.</summary>
    public void Build() => Op((byte)'b');

    /// <summary><c>STOP</c>.</summary>
    public void Stop() => Op((byte)'.');
}

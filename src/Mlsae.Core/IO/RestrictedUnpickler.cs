using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Mlsae.IO;

/// <summary>
/// A pickle reader for PyTorch state dicts that never runs code: it understands the opcodes of
/// protocols 2–5 that state dicts use, and resolves only the globals listed in
/// <see cref="AllowedGlobals"/>. Any other global is an error naming it. Containers become plain
/// .NET values (tuples are <c>object?[]</c>, lists <c>List</c>, dicts <c>Dictionary</c>); calls of
/// allowed globals are handed to the caller's reduce function.
/// </summary>
/// <remarks>
/// The input is a byte array, so every length it declares is checked against the bytes that are
/// really left before anything is allocated; a corrupt or hostile pickle is one
/// <see cref="MlsaeException"/> naming the source, the problem, the opcode and its byte offset.
/// </remarks>
internal sealed class RestrictedUnpickler
{
    /// <summary>A resolved global such as <c>torch._utils._rebuild_tensor_v2</c>.</summary>
    public sealed record Global(string Module, string Name)
    {
        /// <summary>Dotted name, as Python would print it.</summary>
        public override string ToString() => $"{Module}.{Name}";
    }

    /// <summary>Globals a state dict needs: the dict type, tensor rebuild functions, storage types.</summary>
    public static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
        "torch.ByteStorage", "torch.BoolStorage",
    };

    /// <summary>Stands for Python's <c>None</c> as a dict key (a .NET dictionary cannot hold a null key).</summary>
    public static readonly object NoneKey = new();

    /// <summary>The most dicts, lists and tuples one pickle may build. A state dict needs a few per
    /// tensor; the limit keeps a small hostile pickle (one byte per empty dict) from taking gigabytes.</summary>
    public const int MaxContainers = 2_000_000;

    readonly byte[] data;
    readonly string source;
    readonly Func<object?, object> persistentLoad;
    readonly Func<Global, object?[], object> reduce;
    readonly List<object?> stack = new();
    readonly Stack<int> marks = new();
    readonly Dictionary<long, object?> memo = new();
    int pos;
    int opAt;
    int containers;

    RestrictedUnpickler(byte[] data, string source, Func<object?, object> persistentLoad, Func<Global, object?[], object> reduce)
    {
        this.data = data; this.source = source; this.persistentLoad = persistentLoad; this.reduce = reduce;
    }

    /// <summary>Reads one pickle from <paramref name="data"/>. <paramref name="persistentLoad"/> is
    /// called for every persistent id, <paramref name="reduce"/> for every call of an allowed global;
    /// both report problems as <see cref="MlsaeException"/>.</summary>
    public static object? Load(byte[] data, string source, Func<object?, object> persistentLoad, Func<Global, object?[], object> reduce) =>
        new RestrictedUnpickler(data, source, persistentLoad, reduce).Run();

    MlsaeException Corrupt(string problem) =>
        new($"{source}: corrupt pickle ({problem}; opcode 0x{data[opAt]:x2} at byte {opAt})");

    // The stack above the innermost MARK is all an opcode may pop, as in Python's unpickler.
    int Floor => marks.Count > 0 ? marks.Peek() : 0;

    object? Pop()
    {
        if (stack.Count <= Floor) throw Corrupt("stack underflow");
        var v = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return v;
    }

    T Pop<T>(string what) => Pop() is T v ? v : throw Corrupt($"{what} expected");

    object? Top => stack.Count > Floor ? stack[^1] : throw Corrupt("stack underflow");

    List<object?> PopMark()
    {
        if (marks.Count == 0) throw Corrupt("no MARK to pop to");
        int m = marks.Pop();
        var items = stack.GetRange(m, stack.Count - m);
        stack.RemoveRange(m, stack.Count - m);
        return items;
    }

    T Counted<T>(T container) where T : notnull =>
        ++containers > MaxContainers ? throw Corrupt($"more than {MaxContainers} dicts, lists and tuples") : container;

    T Push<T>(T container) where T : notnull
    {
        stack.Add(Counted(container));
        return container;
    }

    object? Run()
    {
        while (true)
        {
            if (pos >= data.Length)
                throw new MlsaeException($"{source}: truncated pickle (ends at byte {data.Length} without a STOP opcode)");
            opAt = pos;
            byte op = data[pos++];
            switch (op)
            {
                case 0x80: { int p = U8(); if (p > 5) throw Corrupt($"unsupported protocol {p}"); break; } // PROTO
                case 0x95: Bytes(8, "frame length"); break;                          // FRAME: framing is not needed on a byte array
                case (byte)'.': return Pop();                                        // STOP
                case (byte)'(': marks.Push(stack.Count); break;                      // MARK
                case (byte)'0': Pop(); break;                                        // POP
                case (byte)'1': PopMark(); break;                                    // POP_MARK
                case (byte)'2': stack.Add(Top); break;                               // DUP
                case (byte)'}': Push(new Dictionary<object, object?>()); break;      // EMPTY_DICT
                case (byte)']': Push(new List<object?>()); break;                    // EMPTY_LIST
                case (byte)')': stack.Add(Array.Empty<object?>()); break;            // EMPTY_TUPLE
                case (byte)'N': stack.Add(null); break;                              // NONE
                case 0x88: stack.Add(true); break;                                   // NEWTRUE
                case 0x89: stack.Add(false); break;                                  // NEWFALSE
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4, "BININT"))); break;
                case (byte)'K': stack.Add((long)U8()); break;                        // BININT1
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, "BININT2"))); break;
                case 0x8a: stack.Add(Integer(Bytes(U8(), "LONG1"))); break;          // LONG1
                case 0x8b: stack.Add(Integer(Bytes(I32("LONG4 length"), "LONG4"))); break;
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8, "BINFLOAT"))); break;
                case (byte)'X': stack.Add(Utf8(Bytes(U32("BINUNICODE length"), "BINUNICODE"))); break;
                case 0x8c: stack.Add(Utf8(Bytes(U8(), "SHORT_BINUNICODE"))); break;
                case 0x8d: stack.Add(Utf8(Bytes(U64("BINUNICODE8 length"), "BINUNICODE8"))); break;
                case (byte)'U': stack.Add(Encoding.Latin1.GetString(Bytes(U8(), "SHORT_BINSTRING"))); break;
                case (byte)'T': stack.Add(Encoding.Latin1.GetString(Bytes(I32("BINSTRING length"), "BINSTRING"))); break;
                case (byte)'C': stack.Add(Bytes(U8(), "SHORT_BINBYTES").ToArray()); break;
                case (byte)'B': stack.Add(Bytes(U32("BINBYTES length"), "BINBYTES").ToArray()); break;
                case 0x8e: stack.Add(Bytes(U64("BINBYTES8 length"), "BINBYTES8").ToArray()); break;
                case (byte)'q': memo[U8()] = Top; break;                             // BINPUT
                case (byte)'r': memo[U32("LONG_BINPUT index")] = Top; break;         // LONG_BINPUT
                case 0x94: memo[memo.Count] = Top; break;                            // MEMOIZE
                case (byte)'h': stack.Add(Memo(U8())); break;                        // BINGET
                case (byte)'j': stack.Add(Memo(U32("LONG_BINGET index"))); break;    // LONG_BINGET
                case (byte)'t': Push(PopMark().ToArray()); break;                    // TUPLE
                case 0x85: { var a = Pop(); Push(new[] { a }); break; }              // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }                 // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case (byte)'l': Push(PopMark()); break;                              // LIST
                case (byte)'d': { var items = PopMark(); var d = Push(new Dictionary<object, object?>()); SetItems(d, items); break; } // DICT
                case (byte)'a': { var v = Pop(); TopList("APPEND").Add(v); break; }  // APPEND
                case (byte)'e': { var items = PopMark(); TopList("APPENDS").AddRange(items); break; }   // APPENDS
                case (byte)'s': { var v = Pop(); var k = Pop(); TopDict("SETITEM")[Key(k)] = v; break; } // SETITEM
                case (byte)'u': { var items = PopMark(); SetItems(TopDict("SETITEMS"), items); break; }  // SETITEMS
                case (byte)'c': { var module = Line("GLOBAL module"); stack.Add(Resolve(module, Line("GLOBAL name"))); break; } // GLOBAL
                case 0x93: { var name = Pop<string>("STACK_GLOBAL name"); var module = Pop<string>("STACK_GLOBAL module"); stack.Add(Resolve(module, name)); break; }
                case (byte)'R': { var args = Pop<object?[]>("REDUCE argument tuple"); var f = Pop(); stack.Add(Call(f, args)); break; }
                case 0x81: { var args = Pop<object?[]>("NEWOBJ argument tuple"); var cls = Pop(); stack.Add(Call(cls, args)); break; }
                case (byte)'b': { Pop(); _ = Top; break; }                           // BUILD: state of dicts/tensors is not needed
                case (byte)'Q': stack.Add(persistentLoad(Pop())); break;             // BINPERSID
                default:
                    throw new MlsaeException($"{source}: unsupported pickle opcode 0x{op:x2} at byte {opAt}");
            }
        }
    }

    ReadOnlySpan<byte> Bytes(long count, string what)
    {
        if (count < 0) throw Corrupt($"{what} has negative length {count}");
        if (count > data.Length - pos)
            throw Corrupt($"{what} of {count} bytes runs past the end of the pickle ({data.Length - pos} bytes left)");
        var span = data.AsSpan(pos, (int)count);
        pos += (int)count;
        return span;
    }

    byte U8() => Bytes(1, "operand")[0];
    int I32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4, what));
    long U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, what));

    long U64(string what)
    {
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8, what));
        return v > (ulong)(data.Length - pos) ? throw Corrupt($"{what} {v} runs past the end of the pickle ({data.Length - pos} bytes left)") : (long)v;
    }

    static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    // Python ints are unbounded; those that fit stay long (sizes, strides, offsets), others BigInteger.
    static object Integer(ReadOnlySpan<byte> bytes)
    {
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }

    string Line(string what)
    {
        int end = Array.IndexOf(data, (byte)'\n', pos);
        if (end < 0) throw Corrupt($"{what} has no end of line");
        var line = Encoding.UTF8.GetString(data, pos, end - pos);
        pos = end + 1;
        return line;
    }

    object? Memo(long key) => memo.TryGetValue(key, out var v) ? v : throw Corrupt($"memo {key} missing");

    static object Key(object? key) => key ?? NoneKey;

    List<object?> TopList(string what) => Top as List<object?> ?? throw Corrupt($"{what} to something not a list");

    Dictionary<object, object?> TopDict(string what) => Top as Dictionary<object, object?> ?? throw Corrupt($"{what} on something not a dict");

    void SetItems(Dictionary<object, object?> d, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Corrupt($"odd number of items ({items.Count}) for a dict");
        for (int i = 0; i < items.Count; i += 2) d[Key(items[i])] = items[i + 1];
    }

    Global Resolve(string module, string name)
    {
        var g = new Global(module, name);
        if (!AllowedGlobals.Contains(g.ToString()))
            throw new MlsaeException(
                $"{source}: pickle global '{ContainedPath.Printable(g.ToString())}' is not allowed (only state-dict types are loaded; no code is run)");
        return g;
    }

    object Call(object? f, object?[] args)
    {
        if (f is not Global g) throw Corrupt("call of something not a global");
        if (g.ToString() == "collections.OrderedDict") return Counted(new Dictionary<object, object?>());
        return reduce(g, args);
    }
}

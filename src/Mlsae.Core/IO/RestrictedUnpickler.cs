using System.Numerics;
using System.Text;

namespace Mlsae.IO;

/// <summary>
/// A pickle reader for PyTorch state dicts that never runs code: it understands the opcodes of
/// protocols 2–5, and resolves only the globals listed in <see cref="AllowedGlobals"/>. Any other
/// global is an error naming it. Containers become plain .NET values (tuples are <c>object?[]</c>,
/// dicts <c>Dictionary</c>); calls of allowed globals are handed to the caller's reduce function.
/// </summary>
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

    readonly BinaryReader r;
    readonly string source;
    readonly Func<object, object> persistentLoad;
    readonly Func<Global, object?[], object> reduce;
    readonly List<object?> stack = new();
    readonly Stack<int> marks = new();
    readonly Dictionary<long, object?> memo = new();

    RestrictedUnpickler(Stream s, string source, Func<object, object> persistentLoad, Func<Global, object?[], object> reduce)
    {
        r = new BinaryReader(s, Encoding.UTF8, leaveOpen: true);
        this.source = source; this.persistentLoad = persistentLoad; this.reduce = reduce;
    }

    /// <summary>Reads one pickle. <paramref name="reduce"/> is called for every allowed global that is called.</summary>
    public static object? Load(Stream s, string source, Func<object, object> persistentLoad, Func<Global, object?[], object> reduce)
    {
        try { return new RestrictedUnpickler(s, source, persistentLoad, reduce).Run(); }
        catch (EndOfStreamException) { throw new MlsaeException($"{source}: truncated pickle"); }
        catch (InvalidCastException e) { throw new MlsaeException($"{source}: unexpected pickle structure ({e.Message})"); }
        catch (ArgumentOutOfRangeException) { throw new MlsaeException($"{source}: corrupt pickle (stack underflow)"); }
    }

    object? Pop() { var v = stack[^1]; stack.RemoveAt(stack.Count - 1); return v; }
    object? Top => stack[^1];
    List<object?> PopMark()
    {
        int m = marks.Pop();
        var items = stack.GetRange(m, stack.Count - m);
        stack.RemoveRange(m, stack.Count - m);
        return items;
    }

    object? Run()
    {
        while (true)
        {
            byte op = r.ReadByte();
            switch (op)
            {
                case 0x80: r.ReadByte(); break;                                    // PROTO
                case 0x95: r.ReadInt64(); break;                                   // FRAME
                case (byte)'.': return Pop();                                      // STOP
                case (byte)'(': marks.Push(stack.Count); break;                    // MARK
                case (byte)'}': stack.Add(new Dictionary<object, object?>()); break;   // EMPTY_DICT
                case (byte)']': stack.Add(new List<object?>()); break;             // EMPTY_LIST
                case (byte)')': stack.Add(Array.Empty<object?>()); break;          // EMPTY_TUPLE
                case (byte)'N': stack.Add(null); break;                            // NONE
                case 0x88: stack.Add(true); break;                                 // NEWTRUE
                case 0x89: stack.Add(false); break;                                // NEWFALSE
                case (byte)'J': stack.Add((long)r.ReadInt32()); break;             // BININT
                case (byte)'K': stack.Add((long)r.ReadByte()); break;              // BININT1
                case (byte)'M': stack.Add((long)r.ReadUInt16()); break;            // BININT2
                case 0x8a: stack.Add(ReadLong(r.ReadByte())); break;               // LONG1
                case 0x8b: stack.Add(ReadLong(r.ReadInt32())); break;              // LONG4
                case (byte)'G': stack.Add(BitConverter.ToDouble(r.ReadBytes(8).Reverse().ToArray())); break; // BINFLOAT
                case (byte)'X': stack.Add(Encoding.UTF8.GetString(r.ReadBytes(r.ReadInt32()))); break;  // BINUNICODE
                case 0x8c: stack.Add(Encoding.UTF8.GetString(r.ReadBytes(r.ReadByte()))); break;        // SHORT_BINUNICODE
                case 0x8d: stack.Add(Encoding.UTF8.GetString(r.ReadBytes(checked((int)r.ReadInt64())))); break; // BINUNICODE8
                case (byte)'U': stack.Add(Encoding.Latin1.GetString(r.ReadBytes(r.ReadByte()))); break; // SHORT_BINSTRING
                case (byte)'T': stack.Add(Encoding.Latin1.GetString(r.ReadBytes(r.ReadInt32()))); break; // BINSTRING
                case (byte)'C': stack.Add(r.ReadBytes(r.ReadByte())); break;       // SHORT_BINBYTES
                case (byte)'B': stack.Add(r.ReadBytes(r.ReadInt32())); break;      // BINBYTES
                case (byte)'q': memo[r.ReadByte()] = Top; break;                   // BINPUT
                case (byte)'r': memo[r.ReadUInt32()] = Top; break;                 // LONG_BINPUT
                case 0x94: memo[memo.Count] = Top; break;                          // MEMOIZE
                case (byte)'h': stack.Add(Memo(r.ReadByte())); break;              // BINGET
                case (byte)'j': stack.Add(Memo(r.ReadUInt32())); break;            // LONG_BINGET
                case (byte)'t': stack.Add(PopMark().ToArray()); break;             // TUPLE
                case 0x85: stack.Add(new[] { Pop() }); break;                      // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new[] { a, b }); break; }          // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new[] { a, b, c }); break; } // TUPLE3
                case (byte)'l': stack.Add(PopMark()); break;                       // LIST
                case (byte)'d': stack.Add(ToDict(PopMark())); break;               // DICT
                case (byte)'a': { var v = Pop(); ((List<object?>)Top!).Add(v); break; }              // APPEND
                case (byte)'e': { var items = PopMark(); ((List<object?>)Top!).AddRange(items); break; } // APPENDS
                case (byte)'s': { var v = Pop(); var k = Pop(); SetItem(Top, k, v); break; }         // SETITEM
                case (byte)'u': { var items = PopMark(); for (int i = 0; i + 1 < items.Count; i += 2) SetItem(Top, items[i], items[i + 1]); break; } // SETITEMS
                case (byte)'c': stack.Add(Resolve(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: { var name = (string)Pop()!; var module = (string)Pop()!; stack.Add(Resolve(module, name)); break; } // STACK_GLOBAL
                case (byte)'R': { var args = (object?[])Pop()!; var f = Pop(); stack.Add(Call(f, args)); break; }  // REDUCE
                case 0x81: { var args = (object?[])Pop()!; var cls = Pop(); stack.Add(Call(cls, args)); break; }    // NEWOBJ
                case (byte)'b': Pop(); break;                                      // BUILD: state of dicts/tensors is not needed
                case (byte)'Q': stack.Add(persistentLoad(Pop()!)); break;          // BINPERSID
                default:
                    throw new MlsaeException($"{source}: unsupported pickle opcode 0x{op:x2}");
            }
        }
    }

    object? Memo(long key) => memo.TryGetValue(key, out var v) ? v : throw new MlsaeException($"{source}: corrupt pickle (memo {key} missing)");

    static Dictionary<object, object?> ToDict(List<object?> items)
    {
        var d = new Dictionary<object, object?>();
        for (int i = 0; i + 1 < items.Count; i += 2) d[items[i]!] = items[i + 1];
        return d;
    }

    void SetItem(object? target, object? key, object? value)
    {
        if (target is not Dictionary<object, object?> d)
            throw new MlsaeException($"{source}: unexpected pickle structure (item set on {target?.GetType().Name ?? "None"})");
        d[key!] = value;
    }

    string ReadLine()
    {
        var sb = new StringBuilder();
        for (char c; (c = (char)r.ReadByte()) != '\n';) sb.Append(c);
        return sb.ToString();
    }

    static long ReadLong(byte[] bytes) => (long)new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
    long ReadLong(int n) => n == 0 ? 0 : ReadLong(r.ReadBytes(n));

    object Resolve(string module, string name)
    {
        var g = new Global(module, name);
        if (!AllowedGlobals.Contains(g.ToString()))
            throw new MlsaeException($"{source}: pickle global '{g}' is not allowed (only state-dict types are loaded; no code is run)");
        return g;
    }

    object Call(object? f, object?[] args)
    {
        if (f is not Global g) throw new MlsaeException($"{source}: unexpected pickle structure (call of a non-global)");
        if (g.ToString() == "collections.OrderedDict") return new Dictionary<object, object?>();
        return reduce(g, args);
    }
}

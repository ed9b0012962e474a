using Mlsae.IO;
using Xunit;

namespace Mlsae.Tests.IO;

/// <summary>Hostile <c>data.pkl</c> contents, inside an otherwise valid torch zip: each is one
/// <see cref="MlsaeException"/> naming the file and the problem, never another exception type.</summary>
public class PickleHostileTests
{
    static readonly TensorSpec W = new("w", "0", 4, 0, [2, 2], [2, 1]);
    static readonly Dictionary<string, byte[]> Storage = new() { ["0"] = new byte[16] };

    static MlsaeException Fails(byte[] pickle)
    {
        var path = TestZips.TorchZip(pickle, Storage);
        var e = Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(path));
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    static byte[] P(params byte[] ops) => [0x80, 2, .. ops];
    static byte[] Le(int v) => BitConverter.GetBytes(v);
    static byte[] Le(long v) => BitConverter.GetBytes(v);

    public static TheoryData<string, byte[], string> Cases() => new()
    {
        // Lengths that run past the input: nothing is allocated for them (this used to print "Out of memory.").
        { "BINUNICODE 2^31-1", P([(byte)'X', .. Le(int.MaxValue), .. "abc"u8]), "BINUNICODE of 2147483647 bytes runs past the end" },
        { "BINUNICODE 4 GiB-1", P([(byte)'X', 0xff, 0xff, 0xff, 0xff]), "BINUNICODE of 4294967295 bytes runs past" },
        { "BINUNICODE8 2^62", P([0x8d, .. Le(1L << 62)]), "BINUNICODE8 length 4611686018427387904 runs past" },
        { "BINUNICODE8 2^64-1", P([0x8d, .. Le(-1L)]), "runs past the end" },
        { "BINBYTES past end", P([(byte)'B', .. Le(100), 1, 2, 3]), "BINBYTES of 100 bytes runs past the end of the pickle (3 bytes left)" },
        { "BINBYTES8 past end", P([0x8e, .. Le(1L << 40)]), "BINBYTES8 length" },
        { "BINSTRING negative", P([(byte)'T', .. Le(-5)]), "BINSTRING has negative length -5" },
        { "LONG4 negative", P([0x8b, .. Le(-1)]), "LONG4 has negative length" },
        { "LONG4 huge", P([0x8b, .. Le(int.MaxValue)]), "LONG4 of 2147483647 bytes runs past" },
        { "SHORT_BINUNICODE past end", P(0x8c, 200, (byte)'a'), "SHORT_BINUNICODE of 200 bytes" },
        // Truncated opcodes and a missing STOP.
        { "BININT truncated", P((byte)'J', 1, 2), "BININT of 4 bytes runs past" },
        { "BINFLOAT truncated", P((byte)'G', 1), "BINFLOAT of 8 bytes runs past" },
        { "PROTO without operand", [0x80], "operand of 1 bytes runs past" },
        { "FRAME truncated", P(0x95, 1, 0), "frame length" },
        { "GLOBAL without newline", P([(byte)'c', .. "torch._utils"u8]), "GLOBAL module has no end of line" },
        { "no STOP", P((byte)'N'), "truncated pickle (ends at byte 3 without a STOP opcode)" },
        { "empty", [], "truncated pickle (ends at byte 0" },
        // Unknown opcodes.
        { "unknown 0xff", P(0xff), "unsupported pickle opcode 0xff at byte 2" },
        { "protocol 0 INT", P((byte)'I'), "unsupported pickle opcode 0x49" },
        { "protocol 9", [0x80, 9], "unsupported protocol 9" },
        // Stack underflow, marks, and structure.
        { "STOP on empty stack", P((byte)'.'), "stack underflow; opcode 0x2e at byte 2" },
        { "TUPLE2 on one item", P((byte)'N', 0x86), "stack underflow" },
        { "SETITEM on one item", P((byte)'}', (byte)'s'), "stack underflow" },
        { "pop below the MARK", P((byte)'N', (byte)'(', 0x85), "stack underflow" },
        { "TUPLE without MARK", P((byte)'N', (byte)'t'), "no MARK to pop to" },
        { "APPEND to a dict", P((byte)'}', (byte)'N', (byte)'a'), "APPEND to something not a list" },
        { "SETITEM on a list", P((byte)']', (byte)'N', (byte)'N', (byte)'s'), "SETITEM on something not a dict" },
        { "SETITEMS on None", P((byte)'N', (byte)'(', (byte)'u'), "SETITEMS on something not a dict" },
        { "odd DICT", P((byte)'(', (byte)'N', (byte)'d'), "odd number of items (1) for a dict" },
        { "REDUCE with None args", P((byte)'N', (byte)'N', (byte)'R'), "REDUCE argument tuple expected" },
        { "REDUCE of a non-global", P((byte)'N', (byte)')', (byte)'R'), "call of something not a global" },
        { "STACK_GLOBAL of numbers", P((byte)'K', 1, (byte)'K', 2, 0x93), "STACK_GLOBAL name expected" },
        { "BUILD without object", P((byte)'N', (byte)'b'), "stack underflow" },
        { "memo miss", P((byte)'h', 5), "memo 5 missing" },
        { "long memo miss", P([(byte)'j', .. Le(77)]), "memo 77 missing" },
        { "BINPUT on empty stack", P((byte)'q', 0), "stack underflow" },
        // Not a state dict, or not torch's persistent ids.
        { "top is a list", P((byte)']', (byte)'.'), "not a state dict (its top object is a List" },
        { "persistent id None", P((byte)'N', (byte)'Q'), "unexpected persistent id" },
        { "global not allowed", P([(byte)'c', .. "builtins\neval\n"u8, (byte)'.']), "'builtins.eval' is not allowed" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void HostilePickleIsOneLineError(string what, byte[] pickle, string mention)
    {
        var e = Fails(pickle);
        Assert.True(e.Message.Contains(mention), $"{what}: '{e.Message}' lacks '{mention}'");
    }

    [Fact]
    public void ManyEmptyDictsHitTheContainerLimit()
    {
        // Two bytes per dict ("}0" then pop): without a limit, 16 MiB of these would be 8M dictionaries.
        var ops = new byte[2 * (RestrictedUnpickler.MaxContainers + 1)];
        for (int i = 0; i < ops.Length; i += 2) { ops[i] = (byte)'}'; ops[i + 1] = (byte)'0'; }
        Assert.Contains($"more than {RestrictedUnpickler.MaxContainers}", Assert.Throws<MlsaeException>(() =>
            RestrictedUnpickler.Load(P([.. ops, (byte)'N', (byte)'.']), "x", _ => throw new InvalidOperationException(), (_, _) => throw new InvalidOperationException())).Message);
    }

    [Fact]
    public void OversizedPickleIsRefused()
    {
        var big = new byte[TorchCheckpoint.MaxPickleBytes + 1];
        var path = TestZips.TorchZip(big, Storage, System.IO.Compression.CompressionLevel.Fastest);
        Assert.Contains("-byte limit for a state dict's pickle", Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(path)).Message);
    }

    [Fact]
    public void NoneDictKeysAndBigIntegersAreAccepted()
    {
        // {None: 2**70, 'w': tensor}: legal pickle content beside a tensor; the tensor still loads.
        var p = new PickleBuilder().Proto().Raw((byte)'}').Mark()
            .Raw((byte)'N').Raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40)
            .Str("w").Tensor(W).Raw((byte)'u', (byte)'.').ToArray();
        using var ckpt = TorchCheckpoint.Open(TestZips.TorchZip(p, Storage));
        Assert.Equal(["w"], ckpt.Names);
    }
}

using System.Text;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.IO;

/// <summary>Tensors over 2 GiB (past one <see cref="Span{T}"/>) load, from sparse files that take no
/// disk; the piecewise copy behind them is checked with tiny pieces on small files.</summary>
public class LargeTensorTests
{
    // Just past 2 GiB (int.MaxValue bytes), which a single Span cannot hold. Reading holes still
    // costs the kernel a zeroed page per 4 KB, so the size stays near the limit it tests.
    const long Big = (1L << 31) + (1L << 16);

    // Marker bytes around the 2 GiB boundary and at both ends; the rest is zeros.
    static readonly (long At, byte Value)[] Markers = [(0, 1), (int.MaxValue - 1L, 2), (int.MaxValue, 3), (1L << 31, 4), (Big - 1, 5)];

    static void AssertMarkers(Tensor t)
    {
        Assert.Equal(new long[] { Big }, t.shape);
        foreach (var (at, value) in Markers) Assert.Equal(value, t[at].item<byte>());
        Assert.Equal(Markers.Length, t.count_nonzero().item<long>());
    }

    static void WriteMarkers(string path, long dataStart)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        foreach (var (at, value) in Markers)
        {
            f.Position = dataStart + at;
            f.WriteByte(value);
        }
    }

    [Fact]
    public void SafetensorsTensorOver2GiBLoads()
    {
        var path = Path.Combine(Fixtures.TempDir(), "big.safetensors");
        var header = Encoding.UTF8.GetBytes($$$"""{"big":{"dtype":"U8","shape":[{{{Big}}}],"data_offsets":[0,{{{Big}}}]}}""");
        using (var f = new FileStream(path, FileMode.Create))
        {
            f.Write(BitConverter.GetBytes((ulong)header.Length));
            f.Write(header);
            f.SetLength(8 + header.Length + Big);   // a hole: zeros that take no disk
        }
        WriteMarkers(path, 8 + header.Length);
        try
        {
            using var file = SafeTensorsFile.Open(path);
            using var t = file.Read("big");
            AssertMarkers(t);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void TorchStorageOver2GiBLoads()
    {
        var path = Path.Combine(Fixtures.TempDir(), "big.bin");
        var pickle = PickleBuilder.StateDict(new TensorSpec("big", "0", Big, 0, [Big], [1], "ByteStorage"));
        // A stored (uncompressed) entry left as a hole; its CRC is the real one, markers included.
        uint crc = 0xFFFFFFFF;
        long done = 0;
        foreach (var (at, value) in Markers)
        {
            crc = Crc32.Update(Crc32.Zeros(crc, at - done), [value]);
            done = at + 1;
        }
        crc = ~Crc32.Zeros(crc, Big - done);
        TestZips.Raw(path,
        [
            new("archive/data.pkl", 0, ~Crc32.Update(0xFFFFFFFF, pickle), pickle.Length, pickle.Length, s => s.Write(pickle)),
            new("archive/data/0", 0, crc, Big, Big, null),
        ]);
        // The storage's data starts after both local headers and the pickle.
        long dataStart = 30 + "archive/data.pkl".Length + pickle.Length + 30 + "archive/data/0".Length;
        WriteMarkers(path, dataStart);
        try
        {
            using var ckpt = TorchCheckpoint.Open(path);
            using var t = ckpt.Read("big");
            AssertMarkers(t);
        }
        finally { File.Delete(path); }
    }

    public static TheoryData<ScalarType> Types() => [ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64, ScalarType.Bool, ScalarType.Byte];

    [Theory]
    [MemberData(nameof(Types))]
    public void TinyPiecesReadAndWriteTheSameBytes(ScalarType type)
    {
        using var scope = NewDisposeScope();
        var dir = Fixtures.TempDir();
        var tensors = new Dictionary<string, Tensor>
        {
            ["a"] = type == ScalarType.Bool ? randn(37, 5).gt(0) : (randn(37, 5) * 100).to(type),
            ["b"] = type == ScalarType.Bool ? randn(3).gt(0) : (randn(3) * 100).to(type),
        };
        var whole = Path.Combine(dir, "whole.safetensors");
        SafeTensorsWriter.Write(whole, tensors);
        foreach (var chunk in new long[] { 1, 3, 7, 64 })
        {
            var pieces = Path.Combine(dir, $"pieces{chunk}.safetensors");
            SafeTensorsWriter.Write(pieces, tensors, null, chunk);
            Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(pieces));
            using var file = SafeTensorsFile.Open(whole);
            foreach (var (name, expected) in tensors)
                Assert.True(expected.eq(file.Read(name, chunk)).all().item<bool>(), $"{name}, {type}, chunk {chunk}");
        }
    }

    [Fact]
    public void PiecesCoverTheTensorInOrder()
    {
        using var scope = NewDisposeScope();
        var t = arange(10, ScalarType.Int32);
        var seen = new List<(int Length, long Offset)>();
        TensorBytes.ForEachChunk(t, 12, (chunk, offset) => seen.Add((chunk.Length, offset)));
        Assert.Equal([(12, 0L), (12, 12L), (12, 24L), (4, 36L)], seen);
        seen.Clear();
        TensorBytes.ForEachChunk(t, 1, (chunk, offset) => seen.Add((chunk.Length, offset)));   // never less than one element
        Assert.Equal(10, seen.Count);
        Assert.All(seen, s => Assert.Equal(4, s.Length));
        TensorBytes.ForEachChunk(zeros(0), 8, (_, _) => Assert.Fail("no pieces for an empty tensor"));
    }

    [Fact]
    public void AllocationFailureIsAnErrorNamingTheTensor()
    {
        // An honest header for 2^42 bytes of a 4 TiB sparse file: opening is fine, memory is not.
        var path = Path.Combine(Fixtures.TempDir(), "absurd.safetensors");
        long n = 1L << 42;
        var header = Encoding.UTF8.GetBytes($$$"""{"x":{"dtype":"U8","shape":[{{{n}}}],"data_offsets":[0,{{{n}}}]}}""");
        using (var f = new FileStream(path, FileMode.Create))
        {
            f.Write(BitConverter.GetBytes((ulong)header.Length));
            f.Write(header);
            f.SetLength(8 + header.Length + n);
        }
        try
        {
            using var file = SafeTensorsFile.Open(path);
            var e = Assert.Throws<MlsaeException>(() => file.Read("x"));
            Assert.Contains("tensor 'x'", e.Message);
            Assert.Contains("cannot be allocated", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        finally { File.Delete(path); }
    }
}

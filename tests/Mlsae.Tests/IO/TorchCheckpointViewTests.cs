using System.IO.Compression;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.IO;

/// <summary>Tensor views against their storages: hostile sizes, strides and offsets are errors naming
/// the tensor; reading inflates and allocates only the bytes a view spans.</summary>
public class TorchCheckpointViewTests
{
    static byte[] Floats(int n) => Enumerable.Range(0, n).SelectMany(i => BitConverter.GetBytes((float)i)).ToArray();

    [Fact]
    public void ViewsReadTheirElements()
    {
        using var scope = NewDisposeScope();
        // One storage of 0..11 seen four ways: whole, transposed, an offset slice, an empty view.
        var pickle = PickleBuilder.StateDict(
            new TensorSpec("whole", "0", 12, 0, [3, 4], [4, 1]),
            new TensorSpec("transposed", "0", 12, 0, [4, 3], [1, 4]),
            new TensorSpec("slice", "0", 12, 5, [2, 2], [4, 1]),
            new TensorSpec("empty", "0", 12, 11, [0, 7], [7, 1]));
        var path = TestZips.TorchZip(pickle, new Dictionary<string, byte[]> { ["0"] = Floats(12) }, CompressionLevel.Optimal);
        using var ckpt = TorchCheckpoint.Open(path);
        var whole = arange(12, ScalarType.Float32).reshape(3, 4);
        foreach (var chunk in new long[] { 1L << 30, 4, 8, 12 })
        {
            Assert.True(whole.eq(ckpt.Read("whole", chunk)).all().item<bool>(), $"whole, chunk {chunk}");
            Assert.True(whole.t().eq(ckpt.Read("transposed", chunk)).all().item<bool>(), $"transposed, chunk {chunk}");
            Assert.True(tensor(new float[] { 5, 6, 9, 10 }).reshape(2, 2).eq(ckpt.Read("slice", chunk)).all().item<bool>(), $"slice, chunk {chunk}");
        }
        Assert.Equal(new long[] { 0, 7 }, ckpt.Read("empty").shape);
        Assert.True(ckpt.Read("transposed").is_contiguous());
    }

    public static TheoryData<string, TensorSpec, int, string> Hostile() => new()
    {
        { "negative stride", new("w", "0", 4, 0, [2, 2], [-2, 1]), 16, "stride[0] is -2" },
        { "negative size", new("w", "0", 4, 0, [-2, 2], [2, 1]), 16, "size[0] is -2" },
        { "size and stride lengths", new("w", "0", 4, 0, [2, 2], [1]), 16, "differ in length" },
        { "2^62 offset", new("w", "0", 4, 1L << 62, [2], [1]), 16, "need 18446744073709551624 bytes of storage '0', which has 16" },
        { "stride overflow", new("w", "0", 4, 0, [3, 3], [long.MaxValue, long.MaxValue]), 16, "need" },
        { "storage shorter than view", new("w", "0", 4, 0, [5], [1]), 16, "need 20 bytes of storage '0', which has 16" },
        { "offset past end", new("w", "0", 4, 4, [1], [1]), 16, "need 20 bytes" },
        { "declared numel past entry", new("w", "0", 100, 0, [2], [1]), 16, "declares 100 elements of 4 bytes but its zip entry holds 16 bytes" },
        { "expanded view", new("w", "0", 4, 0, [1000000, 4], [0, 1]), 16, "repeats storage elements" },
        { "huge numel", new("w", "0", 4, 0, [1L << 40, 1L << 40], [0, 0]), 16, "more than 2^63 elements" },
        { "unknown storage", new("w", "0", 4, 0, [2], [1], "ComplexFloatStorage"), 16, "not allowed" },
        { "too many dims", new("w", "0", 4, 0, Enumerable.Repeat(1L, 65).ToArray(), Enumerable.Repeat(1L, 65).ToArray()), 16, "65 dimensions" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileViewsAreErrorsNamingTheTensor(string what, TensorSpec spec, int storageBytes, string mention)
    {
        var path = TestZips.TorchZip(PickleBuilder.StateDict(spec), new Dictionary<string, byte[]> { ["0"] = new byte[storageBytes] });
        var e = Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(path));
        Assert.Contains(path, e.Message);
        if (what != "unknown storage") Assert.Contains("tensor 'w'", e.Message);
        Assert.True(e.Message.Contains(mention), $"{what}: '{e.Message}' lacks '{mention}'");
    }

    [Theory]
    [InlineData("string offset")]
    [InlineData("None offset")]
    [InlineData("float offset")]
    [InlineData("size not a tuple")]
    [InlineData("storage not a storage")]
    [InlineData("too few arguments")]
    public void WrongTypesInRebuildArgumentsNameTheTensor(string what)
    {
        var spec = new TensorSpec("w", "0", 4, 0, [2], [1]);
        var p = new PickleBuilder().Proto().Raw((byte)'}').Str("w");
        switch (what)
        {
            case "string offset": p.Tensor(spec, b => b.Str("0")); break;
            case "None offset": p.Tensor(spec, b => b.Raw((byte)'N')); break;
            case "float offset": p.Tensor(spec, b => b.Raw([(byte)'G', 0x3f, 0xf0, 0, 0, 0, 0, 0, 0])); break;
            case "size not a tuple":
                p.Global("torch._utils", "_rebuild_tensor_v2").Mark().Storage("FloatStorage", "0", 4).Int(0).Int(2).Ints([1]).Tuple().Raw((byte)'R');
                break;
            case "storage not a storage":
                p.Global("torch._utils", "_rebuild_tensor_v2").Mark().Str("0").Int(0).Ints([2]).Ints([1]).Tuple().Raw((byte)'R');
                break;
            case "too few arguments":
                p.Global("torch._utils", "_rebuild_tensor_v2").Mark().Storage("FloatStorage", "0", 4).Int(0).Tuple().Raw((byte)'R');
                break;
        }
        var path = TestZips.TorchZip(p.Raw((byte)'s', (byte)'.').ToArray(), new Dictionary<string, byte[]> { ["0"] = new byte[16] });
        var e = Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("tensor 'w'", e.Message);
    }

    sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead;
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override int Read(byte[] buffer, int offset, int count) { int n = inner.Read(buffer, offset, count); BytesRead += n; return n; }
        public override int Read(Span<byte> buffer) { int n = inner.Read(buffer); BytesRead += n; return n; }
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
    }

    [Fact]
    public void SmallTensorInAZipBombInflatesOnlyItsOwnBytes()
    {
        using var scope = NewDisposeScope();
        // A 2 MB zip whose storage entry inflates to 1.95 GiB of zeros; the tensor is its first 4 KB.
        const int mebibytes = 1997;
        long size = mebibytes * (1L << 20);
        var deflated = TestZips.DeflatedZeros(mebibytes);
        var pickle = PickleBuilder.StateDict(new TensorSpec("w", "0", size / 4, 0, [1024], [1]));
        var path = Path.Combine(Fixtures.TempDir(), "bomb.bin");
        TestZips.Raw(path,
        [
            new("archive/data.pkl", 0, ~Crc32.Update(0xFFFFFFFF, pickle), pickle.Length, pickle.Length, s => s.Write(pickle)),
            new("archive/data/0", 8, ~Crc32.Zeros(0xFFFFFFFF, size), deflated.Length, size, s => s.Write(deflated)),
        ]);
        Assert.InRange(new FileInfo(path).Length, 1_000_000, 3_000_000);
        var counting = new CountingStream(File.OpenRead(path));
        using var ckpt = TorchCheckpoint.Open(path, counting);
        long afterOpen = counting.BytesRead;
        var w = ckpt.Read("w");
        Assert.Equal(new long[] { 1024 }, w.shape);
        Assert.Equal(0, w.count_nonzero().item<long>());
        // Inflating all 1.95 GiB would read all ~2 MB of deflate data; the first 4 KB need a few hundred bytes.
        Assert.InRange(counting.BytesRead - afterOpen, 1, 200_000);
    }

    [Fact]
    public void DeclaredSizeNoDeflateCanProduceIsRefusedBeforeAllocating()
    {
        var pickle = PickleBuilder.StateDict(new TensorSpec("w", "0", 1L << 28, 0, [1L << 28], [1]));
        var path = Path.Combine(Fixtures.TempDir(), "liar.bin");
        var tiny = TestZips.DeflatedZeros(0);
        TestZips.Raw(path,
        [
            new("archive/data.pkl", 0, ~Crc32.Update(0xFFFFFFFF, pickle), pickle.Length, pickle.Length, s => s.Write(pickle)),
            new("archive/data/0", 8, 0, tiny.Length, 1L << 30, s => s.Write(tiny)),
        ]);
        var e = Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(path));
        Assert.Contains("tensor 'w'", e.Message);
        Assert.Contains("declares 1073741824 bytes from 2 compressed", e.Message);
    }

    [Fact]
    public void StorageShorterThanItsDeclaredSizeIsAnErrorNamingTheTensor()
    {
        using var scope = NewDisposeScope();
        // The central directory says 1024 bytes (which 2 compressed bytes could in principle give),
        // but the deflate data is one empty final block: it ends after 0 bytes.
        var pickle = PickleBuilder.StateDict(new TensorSpec("w", "0", 256, 0, [256], [1]));
        var path = Path.Combine(Fixtures.TempDir(), "short.bin");
        byte[] empty = [0x03, 0x00];
        TestZips.Raw(path,
        [
            new("archive/data.pkl", 0, ~Crc32.Update(0xFFFFFFFF, pickle), pickle.Length, pickle.Length, s => s.Write(pickle)),
            new("archive/data/0", 8, 0, empty.Length, 1024, s => s.Write(empty)),
        ]);
        using var ckpt = TorchCheckpoint.Open(path);
        var e = Assert.Throws<MlsaeException>(() => ckpt.Read("w"));
        Assert.Contains(path, e.Message);
        Assert.Contains("tensor 'w'", e.Message);
        Assert.Contains("ends after 0 bytes; the tensor's view needs 1024", e.Message);
    }

    [Fact]
    public void CorruptDeflateDataIsAnErrorNamingTheTensor()
    {
        using var scope = NewDisposeScope();
        var pickle = PickleBuilder.StateDict(new TensorSpec("w", "0", 16, 0, [16], [1]));
        var path = Path.Combine(Fixtures.TempDir(), "corrupt.bin");
        byte[] junk = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        TestZips.Raw(path,
        [
            new("archive/data.pkl", 0, ~Crc32.Update(0xFFFFFFFF, pickle), pickle.Length, pickle.Length, s => s.Write(pickle)),
            new("archive/data/0", 8, 0, junk.Length, 64, s => s.Write(junk)),
        ]);
        using var ckpt = TorchCheckpoint.Open(path);
        var e = Assert.Throws<MlsaeException>(() => ckpt.Read("w"));
        Assert.Contains("tensor 'w'", e.Message);
    }
}

using System.Text;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.IO;

public class SafeTensorsTests
{
    static readonly ScalarType[] AllTypes =
    [
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    [Fact]
    public void RoundTripsEveryDTypeScalarsAndMetadata()
    {
        using var scope = NewDisposeScope();
        var dir = Fixtures.TempDir();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var t in AllTypes)
            tensors[$"t.{t}"] = t == ScalarType.Bool ? randn(3, 5).gt(0) : (randn(3, 5) * 50).to(t);
        tensors["scalar"] = tensor(-1e9f);
        tensors["empty"] = zeros(0, 4);
        tensors["strided"] = arange(12, ScalarType.Float32).reshape(3, 4).t();   // non-contiguous input
        var path = Path.Combine(dir, "x.safetensors");
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(tensors.Keys.Order(), file.Names.Order());
        foreach (var (name, expected) in tensors)
        {
            var actual = file.Read(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.eq(actual).all().item<bool>(), name);
        }
        Assert.Empty(file.Read("scalar").shape);
        // Header is padded so the data starts at a multiple of 8, as the Python library writes it.
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0UL, (8 + BitConverter.ToUInt64(bytes, 0)) % 8);
    }

    [Fact]
    public void ReadsFilesWithoutMetadata()
    {
        using var file = SafeTensorsFile.Open(Fixtures.Path("mlsae", "sae_checkpoint", "model.safetensors"));
        Assert.Empty(file.Metadata);
        Assert.Equal(new long[] { 48, 192 }, file.Shape("decoder.weight"));
    }

    static string WriteRaw(string header, int dataBytes, int? truncateTo = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = BitConverter.GetBytes((ulong)h.Length).Concat(h).Concat(new byte[dataBytes]).ToArray();
        if (truncateTo is int n) bytes = bytes[..n];
        var path = Path.Combine(Fixtures.TempDir(), "bad.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, "'a'", "out of range")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlaps", "'b'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "'a'", "needs 12 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "'a'", "unknown dtype 'F8_E4M3'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "'a'", "invalid shape")]
    [InlineData("{not json", 0, "bad.safetensors", "corrupt safetensors header")]
    public void BadHeadersAreOneLineErrorsNamingFileAndTensor(string header, int dataBytes, string mention1, string mention2)
    {
        var path = WriteRaw(header, dataBytes);
        var e = Assert.Throws<MlsaeException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(mention1, e.Message);
        Assert.Contains(mention2, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void HeaderLengthPastEndOfFileIsAnError()
    {
        var path = Path.Combine(Fixtures.TempDir(), "x.safetensors");
        File.WriteAllBytes(path, BitConverter.GetBytes(1000UL).Concat(new byte[10]).ToArray());
        var e = Assert.Throws<MlsaeException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("header length 1000 runs past the end", e.Message);
    }

    [Fact]
    public void TruncatedFilesAreErrors()
    {
        var good = Fixtures.Path("gpt_neox", "modelB", "model.safetensors");
        var bytes = File.ReadAllBytes(good);
        var path = Path.Combine(Fixtures.TempDir(), "model.safetensors");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<MlsaeException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("out of range", e.Message);
        File.WriteAllBytes(path, bytes[..5]);
        Assert.Contains("truncated", Assert.Throws<MlsaeException>(() => SafeTensorsFile.Open(path)).Message);
    }

    [Fact]
    public void FailedWriteLeavesNoFile()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Fixtures.TempDir(), "out.safetensors");
        var bad = new Dictionary<string, Tensor> { ["x"] = zeros(2, dtype: ScalarType.ComplexFloat32) };
        Assert.Throws<MlsaeException>(() => SafeTensorsWriter.Write(path, bad));
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}

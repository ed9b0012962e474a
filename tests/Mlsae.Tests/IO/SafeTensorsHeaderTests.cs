using System.Text;
using Mlsae.IO;
using Xunit;

namespace Mlsae.Tests.IO;

/// <summary>Hostile safetensors headers: each is one <see cref="MlsaeException"/> naming the file and
/// the tensor or field, never another exception type.</summary>
public class SafeTensorsHeaderTests
{
    static string Write(byte[] header, int dataBytes)
    {
        var bytes = BitConverter.GetBytes((ulong)header.Length).Concat(header).Concat(new byte[dataBytes]).ToArray();
        var path = Path.Combine(Fixtures.TempDir(), "hostile.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    static MlsaeException Fails(byte[] header, int dataBytes = 64)
    {
        var path = Write(header, dataBytes);
        var e = Assert.Throws<MlsaeException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    static MlsaeException Fails(string header, int dataBytes = 64) => Fails(Encoding.UTF8.GetBytes(header), dataBytes);

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}}""", "'a'", "invalid data_offsets")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}""", "'a'", "invalid data_offsets")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}}""", "'a'", "invalid data_offsets")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "'a'", "invalid data_offsets")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":{"0":8}}}""", "'a'", "'data_offsets' must be an array")]
    [InlineData("""{"a":{"dtype":"F32","shape":5,"data_offsets":[0,20]}}""", "'a'", "'shape' must be an array, not a number")]
    [InlineData("""{"a":{"dtype":"F32","shape":"[2]","data_offsets":[0,8]}}""", "'a'", "'shape' must be an array, not a string")]
    [InlineData("""{"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}}""", "'a'", "dimension 0")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,8]}}""", "'a'", "dimension 1")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1e3],"data_offsets":[0,8]}}""", "'a'", "invalid shape")]
    [InlineData("""{"a":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", "'a'", "more than 2^63 elements")]
    [InlineData("""{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}}""", "'a'", "more than 2^63 bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[9223372036854775807,0],"data_offsets":[0,8]}}""", "'a'", "needs 0 bytes")]
    [InlineData("""{"a":{"dtype":5,"shape":[2],"data_offsets":[0,8]}}""", "'a'", "'dtype' must be a string, not a number")]
    [InlineData("""{"a":{"dtype":null,"shape":[2],"data_offsets":[0,8]}}""", "'a'", "'dtype' must be a string, not null")]
    [InlineData("""{"a":{"shape":[2],"data_offsets":[0,8]}}""", "'a'", "no 'dtype'")]
    [InlineData("""{"a":[1,2]}""", "'a'", "must be an object")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", "'a'", "appears twice")]
    [InlineData("""{"__metadata__":[1,2]}""", "__metadata__", "must be an object of strings, not an array")]
    [InlineData("""{"__metadata__":"format"}""", "__metadata__", "not a string")]
    [InlineData("""{"__metadata__":{"format":"pt","step":5}}""", "__metadata__", "'step' is a number")]
    [InlineData("""{"__metadata__":{"x":{"y":"z"}}}""", "__metadata__", "'x' is an object")]
    [InlineData("""{"__metadata__":{},"__metadata__":{}}""", "__metadata__", "appears twice")]
    [InlineData("""[{"dtype":"F32"}]""", "hostile.safetensors", "not a JSON object")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} trailing""", "hostile.safetensors", "corrupt safetensors header")]
    public void WrongJsonTypesAreErrorsNamingTheTensorAndField(string header, string mention1, string mention2)
    {
        var e = Fails(header);
        Assert.Contains(mention1, e.Message);
        Assert.Contains(mention2, e.Message);
    }

    [Fact]
    public void InvalidUtf8IsAnErrorWithItsOffset()
    {
        // {"<ff fe>": ...}: System.Text.Json would throw InvalidOperationException on reading the key.
        byte[] header = [.. "{\""u8, 0xff, 0xfe, .. "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"u8];
        var e = Fails(header);
        Assert.Contains("invalid UTF-8 at byte 10", e.Message);
        byte[] value = [.. "{\"__metadata__\":{\"k\":\""u8, 0xc3, .. "\"}}"u8];
        Assert.Contains("invalid UTF-8", Fails(value).Message);
    }

    [Theory]
    [InlineData("""{"\ud800":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "byte 9")]
    [InlineData("""{"a":{"d\udc00type":"F32","shape":[2],"data_offsets":[0,8]}}""", "byte 14")]
    [InlineData("""{"__metadata__":{"k":"x\ud800"}}""", "byte 29")]
    public void EscapedUnpairedSurrogatesAreErrors(string header, string at)
    {
        // Found by the fuzzer: valid UTF-8, but System.Text.Json cannot turn "\ud800" into a .NET string.
        var e = Fails(header);
        Assert.Contains("escapes an unpaired UTF-16 surrogate", e.Message);
        Assert.Contains(at, e.Message);
    }

    [Fact]
    public void TooManyDimensionsIsAnError()
    {
        var shape = string.Join(",", Enumerable.Repeat("1", 65));
        var e = Fails($$$"""{"a":{"dtype":"F32","shape":[{{{shape}}}],"data_offsets":[0,4]}}""");
        Assert.Contains("65 dimensions", e.Message);
    }

    [Fact]
    public void DeepNestingIsACorruptHeaderNotAStackOverflow()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);
        Assert.Contains("corrupt safetensors header", Fails($$$"""{"__metadata__":{"k":{{{deep}}}}}""").Message);
    }

    [Fact]
    public void HeaderOverTheLimitIsRefusedBeforeItIsRead()
    {
        // A sparse file: the header length is honest about the file, but 200 MB is no header.
        var path = Path.Combine(Fixtures.TempDir(), "huge.safetensors");
        using (var f = new FileStream(path, FileMode.Create))
        {
            f.Write(BitConverter.GetBytes(200_000_000UL));
            f.SetLength(8 + 200_000_000L);
        }
        var e = Assert.Throws<MlsaeException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("over the 100000000-byte limit", e.Message);
        File.Delete(path);
    }

    [Fact]
    public void ParsingNeedsNoTensorCode()
    {
        // What the fuzz harness relies on: the header alone, from a stream, with no file and no libtorch.
        var json = """{"__metadata__":{"format":"pt"},"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},"e":{"dtype":"F32","shape":[0],"data_offsets":[12,12]}}"""u8.ToArray();
        var bytes = BitConverter.GetBytes((ulong)json.Length).Concat(json).Concat(new byte[12]).ToArray();
        var header = SafeTensorsHeader.Read("mem.safetensors", new MemoryStream(bytes));
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(new long[] { 2, 3 }, header.Entries["w"].Shape);
        Assert.Equal(8 + json.Length, header.DataStart);
        Assert.Equal(2, header.Names.Count);
    }
}

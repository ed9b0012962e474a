using System.IO.Compression;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.IO;

public class TorchCheckpointWriterTests
{
    static readonly string Bin = Fixtures.Path("gpt_neox", "modelC_bin", "pytorch_model.bin");

    // The fixture's state dict in its own order (sorted names, as HF pickles it).
    static List<KeyValuePair<string, Tensor>> FixtureTensors()
    {
        using var bin = TorchCheckpoint.Open(Bin);
        return bin.Names.Order(StringComparer.Ordinal).Select(n => KeyValuePair.Create(n, bin.Read(n))).ToList();
    }

    [Fact]
    public void RewritingTheTorchFixtureReproducesItByteForByte()
    {
        // The fixture was written by torch.save with a plain-dict root under an older PyTorch (no
        // byteorder, no serialization id): the same records give the same file, pickle and zip framing alike.
        using var scope = NewDisposeScope();
        var path = Path.Combine(Fixtures.TempDir(), "pytorch_model.bin");
        TorchCheckpointWriter.Write(path, FixtureTensors(), new TorchSaveOptions { ModuleMetadata = null, ByteOrderRecord = false, SerializationId = false });
        using var zip = ZipFile.OpenRead(Bin);
        var expectedPickle = ReadEntry(zip, "pytorch_model/data.pkl");
        using var mine = ZipFile.OpenRead(path);
        Assert.Equal(expectedPickle, ReadEntry(mine, "pytorch_model/data.pkl"));
        Assert.Equal(File.ReadAllBytes(Bin), File.ReadAllBytes(path));
    }

    [Fact]
    public void LensStateDictHasTorchsLayoutAndReadsBackExactly()
    {
        using var scope = NewDisposeScope();
        var g = manual_seed(3);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (int i = 0; i < 6; i++)
        {
            tensors.Add(KeyValuePair.Create($"{i}.weight", randn(5, 5)));
            tensors.Add(KeyValuePair.Create($"{i}.bias", randn(5)));
        }
        var path = Path.Combine(Fixtures.TempDir(), "params.pt");
        TorchCheckpointWriter.Write(path, tensors, new TorchSaveOptions { ModuleMetadata = ["", .. Enumerable.Range(0, 6).Select(i => $"{i}")] });

        using (var back = TorchCheckpoint.Open(path))
        {
            Assert.Equal(tensors.Select(t => t.Key), back.Names);
            foreach (var (name, t) in tensors)
            {
                var read = back.Read(name);
                Assert.Equal(t.shape, read.shape);
                Assert.Equal(ScalarType.Float32, read.dtype);
                Assert.True(read.eq(t).all().item<bool>(), name);   // exact: the bytes are the tensor's own
            }
        }

        var layout = ZipLayout.Read(path);
        var keys = Enumerable.Range(0, 12).Select(k => k.ToString()).Order(StringComparer.Ordinal).Select(k => $"params/data/{k}");
        Assert.Equal(["params/data.pkl", "params/byteorder", .. keys, "params/version", "params/.data/serialization_id"], layout.Select(r => r.Name));
        var torchRecord = ZipLayout.Read(Bin)[0];
        foreach (var r in layout)
        {
            Assert.Equal(0, r.DataOffset % 64);
            Assert.Equal((torchRecord.Version, torchRecord.Flags, torchRecord.Method, torchRecord.ExtraId), (r.Version, r.Flags, r.Method, r.ExtraId));
        }
        Assert.Equal((ushort)0, torchRecord.Method);   // stored, as torch writes
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal("little"u8.ToArray(), ReadEntry(zip, "params/byteorder"));
        Assert.Equal("3\n"u8.ToArray(), ReadEntry(zip, "params/version"));
        Assert.Matches("^[0-9]{40}$", System.Text.Encoding.ASCII.GetString(ReadEntry(zip, "params/.data/serialization_id")));
    }

    [Fact]
    public void MetadataPickleHasTheOrderedDictRootAndBuild()
    {
        using var scope = NewDisposeScope();
        var pickle = TorchCheckpointWriter.Pickle([KeyValuePair.Create("0.bias", zeros(2))], ["", "0"]);
        var text = System.Text.Encoding.Latin1.GetString(pickle);
        Assert.StartsWith("\u0080\u0002ccollections\nOrderedDict\nq\u0000)Rq\u0001", text);
        Assert.Contains("_metadata", text);
        Assert.EndsWith("b.", text);   // BUILD (the _metadata attribute), STOP
    }

    [Fact]
    public void DuplicateNamesAndUnsupportedDTypesAreErrors()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(Fixtures.TempDir(), "bad.pt");
        var e = Assert.Throws<MlsaeException>(() => TorchCheckpointWriter.Write(path, [KeyValuePair.Create("a", zeros(1)), KeyValuePair.Create("a", zeros(1))]));
        Assert.Contains("'a' appears twice", e.Message);
        e = Assert.Throws<MlsaeException>(() => TorchCheckpointWriter.Write(path, [KeyValuePair.Create("c", zeros(1, dtype: ScalarType.ComplexFloat32))]));
        Assert.Contains("'c'", e.Message);
        Assert.False(File.Exists(path));
    }

    static byte[] ReadEntry(ZipArchive zip, string name)
    {
        using var s = zip.GetEntry(name)!.Open();
        var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}

using System.IO.Compression;
using System.Text.Json;
using Mlsae.IO;
using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.IO;

public class TorchCheckpointTests
{
    static readonly string Bin = Fixtures.Path("gpt_neox", "modelC_bin", "pytorch_model.bin");

    [Fact]
    public void PickleCheckpointHoldsTheSameTensorsAsSafetensors()
    {
        using var scope = NewDisposeScope();
        using var bin = TorchCheckpoint.Open(Bin);
        using var st = SafeTensorsFile.Open(Fixtures.Path("gpt_neox", "modelC", "model.safetensors"));
        Assert.Equal(st.Names.Order(), bin.Names.Order());
        foreach (var name in st.Names)
        {
            var a = st.Read(name);
            var b = bin.Read(name);
            Assert.Equal(a.dtype, b.dtype);
            Assert.True(a.eq(b).all().item<bool>(), name);
        }
    }

    static string CopyWith(Action<ZipArchive> edit)
    {
        var path = Path.Combine(Fixtures.TempDir(), "pytorch_model.bin");
        File.Copy(Bin, path);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update)) edit(zip);
        return path;
    }

    [Fact]
    public void DisallowedGlobalIsAnErrorNamingIt()
    {
        var path = CopyWith(zip =>
        {
            var pkl = zip.Entries.First(e => e.FullName.EndsWith("data.pkl"));
            var name = pkl.FullName;
            pkl.Delete();
            using var s = zip.CreateEntry(name).Open();
            // protocol 2: GLOBAL os.system, then STOP. A real unpickler would resolve os.system.
            s.Write([0x80, 0x02, .. "cos\nsystem\n"u8, (byte)'.']);
        });
        var e = Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(path));
        Assert.Contains("'os.system' is not allowed", e.Message);
    }

    [Fact]
    public void MissingStorageEntryIsAnErrorNamingTheTensor()
    {
        var path = CopyWith(zip => zip.Entries.First(e => e.FullName.Contains("/data/")).Delete());
        var e = Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(path));
        Assert.Contains("zip entry", e.Message);
        Assert.Contains("missing", e.Message);
        Assert.Contains("tensor '", e.Message);
    }

    [Fact]
    public void MissingDataPklAndNonZipFilesAreErrors()
    {
        var path = CopyWith(zip => zip.Entries.First(e => e.FullName.EndsWith("data.pkl")).Delete());
        Assert.Contains("data.pkl' missing", Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(path)).Message);
        var junk = Path.Combine(Fixtures.TempDir(), "pytorch_model.bin");
        File.WriteAllBytes(junk, File.ReadAllBytes(Bin)[..1000]);
        Assert.Contains(junk, Assert.Throws<MlsaeException>(() => TorchCheckpoint.Open(junk)).Message);
    }

    [Fact]
    public void ShardedPickleIndexLoads()
    {
        using var scope = NewDisposeScope();
        var dir = Fixtures.TempDir();
        File.Copy(Bin, Path.Combine(dir, "pytorch_model-00001-of-00001.bin"));
        File.Copy(Fixtures.Path("gpt_neox", "modelC_bin", "config.json"), Path.Combine(dir, "config.json"));
        using (var bin = TorchCheckpoint.Open(Bin))
            File.WriteAllText(Path.Combine(dir, "pytorch_model.bin.index.json"), JsonSerializer.Serialize(
                new { weight_map = bin.Names.ToDictionary(n => n, _ => "pytorch_model-00001-of-00001.bin") }));
        var expected = Fixtures.ReadAll(Fixtures.Path("gpt_neox", "modelC_expected.safetensors"));
        using var gpt = GptNeoXLoader.Load(dir);
        using var output = gpt.Forward(expected["tokens"]);
        Fixtures.AssertClose(expected["hidden_states"], output.HiddenStates, 1e-4, 1e-4, "hidden_states");
    }
}

using Mlsae.Hub;
using Xunit;

namespace Mlsae.Tests.Hub;

public class DatasetFileTests
{
    static HubClient NoHub() => throw new InvalidOperationException("the hub must not be used");

    [Fact]
    public void ALocalFileWinsWithoutTheHub()
    {
        var path = Path.Combine(Fixtures.TempDir(), "some.safetensors");
        File.WriteAllText(path, "x");
        Assert.Equal(path, DatasetFile.Resolve(path, "dists.safetensors", "--dists", NoHub));
    }

    [Fact]
    public void FoldersMissingFilesAndNonIdsAreOneLineErrorsNamingTheFlag()
    {
        var dir = Fixtures.TempDir();
        Assert.Contains("is a folder", Assert.Throws<MlsaeException>(() => DatasetFile.Resolve(dir, "dists.safetensors", "--dists", NoHub)).Message);
        Assert.StartsWith("--dists: out/missing.safetensors does not exist",
            Assert.Throws<MlsaeException>(() => DatasetFile.Resolve("out/missing.safetensors", "dists.safetensors", "--dists", NoHub)).Message);
        Assert.Contains("neither a file nor a dataset hub id",
            Assert.Throws<MlsaeException>(() => DatasetFile.Resolve("nohub", "examples.db", "--examples", NoHub)).Message);
    }

    [Fact]
    public void AMissingDatasetRepoIsAOneLineError()
    {
        using var hub = new WritableHub("t");
        using var client = new HubClient(new HubSettings { Endpoint = hub.Endpoint, Cache = new HubCache(Fixtures.TempDir()) });
        var e = Assert.Throws<MlsaeException>(() => DatasetFile.Resolve("someone/absent-dists", "dists.safetensors", "--dists", () => client));
        Assert.Contains("repository not found", e.Message);
    }
}

using Mlsae.Hub;
using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Hub;

public class HubClientTests
{
    const string Repo = "fixture-org/model-b";
    static readonly string ModelB = Fixtures.Path("gpt_neox", "modelB");

    [Fact]
    public void DownloadsIntoTheHfCacheLayoutAndLoads()
    {
        using var server = new LoopbackHub(Repo, ModelB);
        var cache = new HubCache(Fixtures.TempDir());
        using var hub = new HubClient(server.Endpoint, token: "secret", cache: cache, offline: false);
        var folder = ModelResolver.Resolve(Repo, "main", hub);
        Assert.Equal(cache.Snapshot(Repo, LoopbackHub.Commit), folder);
        Assert.Equal(LoopbackHub.Commit, File.ReadAllText(Path.Combine(cache.RepoFolder(Repo), "refs", "main")));
        var weights = Path.Combine(folder, "model.safetensors");
        Assert.NotNull(new FileInfo(weights).LinkTarget);  // a symlink into blobs/, as huggingface_hub makes
        Assert.True(File.Exists(cache.Blob(Repo, LoopbackHub.Etag(Path.Combine(ModelB, "model.safetensors")))));
        Assert.Contains(server.Authorizations, a => a == "Bearer secret");
        using var scope = NewDisposeScope();
        using var model = GptNeoXLoader.Load(folder);
        Assert.Equal(48, model.Config.HiddenSize);
    }

    [Fact]
    public void CachedFilesAreReusedAndOfflineNeverTouchesTheNetwork()
    {
        var cache = new HubCache(Fixtures.TempDir());
        using (var server = new LoopbackHub(Repo, ModelB))
        using (var hub = new HubClient(server.Endpoint, cache: cache, offline: false))
            ModelResolver.Resolve(Repo, "main", hub);
        // The server is gone: offline resolution must come from the cache alone.
        using var offline = new HubClient("http://127.0.0.1:9", cache: cache, offline: true);
        var folder = ModelResolver.Resolve(Repo, "main", offline);
        Assert.True(File.Exists(Path.Combine(folder, "config.json")));
        var e = Assert.Throws<MlsaeException>(() => ModelResolver.Resolve("other-org/other-model", "main", offline));
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
    }

    [Fact]
    public void InterruptedDownloadResumesWithARangeRequest()
    {
        using var server = new LoopbackHub(Repo, ModelB);
        var cache = new HubCache(Fixtures.TempDir());
        var source = Path.Combine(ModelB, "model.safetensors");
        var bytes = File.ReadAllBytes(source);
        var blob = cache.Blob(Repo, LoopbackHub.Etag(source));
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        File.WriteAllBytes(blob + ".incomplete", bytes[..1000]);
        using var hub = new HubClient(server.Endpoint, cache: cache, offline: false);
        var path = hub.File(Repo, "model.safetensors")!;
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Contains(server.Requests, r => r.StartsWith("GET") && r.EndsWith("bytes=1000-"));
    }

    [Fact]
    public void MissingRepoAndUnreachableHubAreOneLineErrors()
    {
        using var server = new LoopbackHub(Repo, ModelB);
        using var hub = new HubClient(server.Endpoint, cache: new HubCache(Fixtures.TempDir()), offline: false);
        Assert.Contains("repository not found", Assert.Throws<MlsaeException>(() => ModelResolver.Resolve("nobody/nothing", "main", hub)).Message);
        using var down = new HubClient("http://127.0.0.1:9", cache: new HubCache(Fixtures.TempDir()), offline: false);
        Assert.Contains("could not reach", Assert.Throws<MlsaeException>(() => ModelResolver.Resolve(Repo, "main", down)).Message);
        Assert.Contains("neither a local folder nor a hub id",
            Assert.Throws<MlsaeException>(() => ModelResolver.Resolve("./no/such/dir", "main", hub)).Message);
    }
}

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
        using var hub = server.Client(cache, token: "secret");
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
        using (var hub = server.Client(cache))
            ModelResolver.Resolve(Repo, "main", hub);
        // The server is gone: offline resolution must come from the cache alone.
        using var offline = new HubClient(new HubSettings { Endpoint = "http://127.0.0.1:9", Cache = cache, Offline = true });
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
        using var hub = server.Client(cache);
        var path = hub.File(Repo, "model.safetensors")!;
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Contains(server.Requests, r => r.StartsWith("GET") && r.EndsWith("bytes=1000-"));
    }

    [Fact]
    public void MissingRepoAndUnreachableHubAreOneLineErrors()
    {
        using var server = new LoopbackHub(Repo, ModelB);
        using var hub = server.Client(new HubCache(Fixtures.TempDir()));
        Assert.Contains("repository not found", Assert.Throws<MlsaeException>(() => ModelResolver.Resolve("nobody/nothing", "main", hub)).Message);
        using var down = new HubClient(new HubSettings { Endpoint = "http://127.0.0.1:9", Cache = new HubCache(Fixtures.TempDir()) });
        Assert.Contains("could not reach", Assert.Throws<MlsaeException>(() => ModelResolver.Resolve(Repo, "main", down)).Message);
        Assert.Contains("neither a local folder nor a hub id",
            Assert.Throws<MlsaeException>(() => ModelResolver.Resolve("./no/such/dir", "main", hub)).Message);
    }

    [Theory]
    [InlineData("main")]
    [InlineData("v1.0")]
    [InlineData("refs/pr/1")]
    [InlineData("release-2024_01")]
    [InlineData(LoopbackHub.Commit)]
    public void OrdinaryRevisionsDownloadIntoTheCache(string revision)
    {
        var box = new CacheSandbox();
        using var server = new LoopbackHub(Repo, ModelB);
        using var hub = server.Client(box.Cache);
        var path = hub.File(Repo, "config.json", revision)!;
        Assert.Equal(Path.Combine(box.Cache.Snapshot(Repo, LoopbackHub.Commit), "config.json"), path);
        var refFile = Path.Combine(box.Cache.RepoFolder(Repo), "refs", revision);
        // A commit needs no ref; a ref name (refs/pr/1 too) is recorded under refs/ as huggingface_hub does.
        Assert.Equal(revision != LoopbackHub.Commit, File.Exists(refFile));
        Assert.Equal(path, hub.File(Repo, "config.json", revision));
        box.AssertOutsideUntouched();
    }

    [Fact]
    public void NestedRepoPathsDownloadAndAreListed()
    {
        const string repo = "fixture-org/nested";
        var box = new CacheSandbox();
        var folder = Fixtures.TempDir();
        Directory.CreateDirectory(Path.Combine(folder, "data", "en"));
        File.WriteAllText(Path.Combine(folder, "data", "train-00000.jsonl.zst"), "not really zstd");
        File.WriteAllText(Path.Combine(folder, "data", "en", "valid.jsonl"), "{}");
        using var server = new LoopbackHub(repo, folder);
        using var hub = server.Client(box.Cache);
        Assert.Equal(["data/en/valid.jsonl", "data/train-00000.jsonl.zst"], hub.ListFiles(repo));
        var path = hub.File(repo, "data/train-00000.jsonl.zst", repoType: "dataset")!;
        Assert.Equal(Path.Combine(box.Cache.Snapshot(repo, LoopbackHub.Commit, "dataset"), "data", "train-00000.jsonl.zst"), path);
        Assert.Equal("not really zstd", File.ReadAllText(path));
        Assert.Equal("{}", File.ReadAllText(hub.File(repo, "data/en/valid.jsonl", repoType: "dataset")!));
        box.AssertOutsideUntouched();
    }
}

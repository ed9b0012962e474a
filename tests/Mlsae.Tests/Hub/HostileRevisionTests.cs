using Mlsae.Hub;
using Xunit;

namespace Mlsae.Tests.Hub;

/// <summary>A revision (from <c>--revision</c>, or a ref file in the cache) must not lead outside the repo folder.</summary>
public class HostileRevisionTests
{
    const string Repo = "fixture-org/model-b";
    static readonly string ModelB = Fixtures.Path("gpt_neox", "modelB");

    public static TheoryData<string> HostileRevisions => new()
    {
        "../../../outside/config.json", "refs/../../../../outside/ref", "/tmp/mlsae-hostile-revision", "main\\..\\..\\x",
        "a//b", "main/", "..", ".hidden", "main.lock", "main\u0001", "with space", "v1.0@{0}", "C:/x",
    };

    [Theory]
    [MemberData(nameof(HostileRevisions))]
    public void HostileRevisionIsRefusedOnline(string revision)
    {
        var box = new CacheSandbox();
        using var server = new LoopbackHub(Repo, ModelB);
        using var hub = server.Client(box.Cache);
        var e = Assert.Throws<MlsaeException>(() => ModelResolver.Resolve(Repo, revision, hub));
        Assert.StartsWith("revision '", e.Message);
        Assert.Throws<MlsaeException>(() => hub.ListFiles(Repo, revision, "model"));
        Assert.Empty(server.Requests);
        Assert.False(File.Exists("/tmp/mlsae-hostile-revision"));
        box.AssertOutsideUntouched();
    }

    [Theory]
    [MemberData(nameof(HostileRevisions))]
    public void HostileRevisionIsRefusedOffline(string revision)
    {
        var box = new CacheSandbox();
        using var hub = new HubClient(new HubSettings { Endpoint = "http://127.0.0.1:9", Cache = box.Cache, Offline = true });
        var e = Assert.Throws<MlsaeException>(() => hub.File(Repo, "config.json", revision));
        Assert.StartsWith("revision '", e.Message);
        box.AssertOutsideUntouched();
    }

    [Fact]
    public void TamperedRefFileInTheCacheIsRefused()
    {
        var box = new CacheSandbox();
        var refs = Path.Combine(box.Cache.RepoFolder(Repo), "refs");
        Directory.CreateDirectory(refs);
        File.WriteAllText(Path.Combine(refs, "main"), "../../../outside");
        using var hub = new HubClient(new HubSettings { Endpoint = "http://127.0.0.1:9", Cache = box.Cache, Offline = true });
        var e = Assert.Throws<MlsaeException>(() => hub.File(Repo, "config.json"));
        Assert.Contains(Path.Combine(refs, "main"), e.Message);
        Assert.Contains("not a commit hash", e.Message);
        box.AssertOutsideUntouched();
    }
}

using Mlsae.Hub;
using Xunit;

namespace Mlsae.Tests.Hub;

/// <summary>A hostile endpoint's headers must not steer any cache path outside the repo folder.</summary>
public class HostileHeaderTests
{
    const string Repo = "fixture-org/model-b";
    static readonly string ModelB = Fixtures.Path("gpt_neox", "modelB");

    [Theory]
    [InlineData("../../../outside")]
    [InlineData("0123456789abcdef0123456789abcdef01234567/../../../outside")]
    [InlineData("/tmp/mlsae-hostile-commit")]
    [InlineData("0123456789abcdef0123456789abcdef0123456")]       // 39 hex digits
    [InlineData("0123456789abcdef0123456789abcdef012345678")]     // 41
    [InlineData("0123456789abcdef0123456789abcdef0123456g")]
    public void HostileRepoCommitHeaderIsRefused(string commit)
    {
        var box = new CacheSandbox();
        using var server = new LoopbackHub(Repo, ModelB);
        server.HeaderOverrides["X-Repo-Commit"] = commit;
        using var hub = server.Client(box.Cache);
        var e = Assert.Throws<MlsaeException>(() => hub.File(Repo, "config.json"));
        Assert.Contains("X-Repo-Commit", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(File.Exists(Path.Combine(box.Cache.RepoFolder(Repo), "refs", "main")));   // refused before anything was written
        Assert.False(Directory.Exists("/tmp/mlsae-hostile-commit"));
        box.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("ETag", "\"../../../outside/config.json\"")]
    [InlineData("ETag", "W/\"../../../outside/evil\"")]
    [InlineData("X-Linked-Etag", "../../../outside/config.json")]
    [InlineData("X-Linked-Etag", "\"/tmp/mlsae-hostile-etag\"")]
    [InlineData("ETag", "\"sha256:0123456789abcdef0123456789abcdef01234567\"")]
    [InlineData("X-Linked-Etag", "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\"")]   // 63 hex digits
    public void HostileEtagHeaderIsRefused(string header, string value)
    {
        var box = new CacheSandbox();
        using var server = new LoopbackHub(Repo, ModelB);
        server.HeaderOverrides[header] = value;
        using var hub = server.Client(box.Cache);
        var e = Assert.Throws<MlsaeException>(() => hub.File(Repo, "config.json"));
        Assert.Contains(header, e.Message);
        Assert.Contains("hex digest", e.Message);
        Assert.False(Directory.Exists(Path.Combine(box.Cache.RepoFolder(Repo), "blobs")));
        Assert.False(File.Exists("/tmp/mlsae-hostile-etag"));
        box.AssertOutsideUntouched();
    }

    [Fact]
    public void WeakQuotedEtagNamesTheBlob()
    {
        var box = new CacheSandbox();
        using var server = new LoopbackHub(Repo, ModelB);
        const string sha1 = "89abcdef0123456789abcdef0123456789abcdef";
        server.HeaderOverrides["ETag"] = $"W/\"{sha1}\"";
        using var hub = server.Client(box.Cache);
        var path = hub.File(Repo, "config.json")!;
        Assert.Equal(File.ReadAllBytes(Path.Combine(ModelB, "config.json")), File.ReadAllBytes(path));
        Assert.True(File.Exists(box.Cache.Blob(Repo, sha1)));
        box.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("snapshots/" + LoopbackHub.Commit)]
    [InlineData("blobs")]
    public void ExistingLinkOutOfTheRepoFolderIsNotFollowed(string inRepo)
    {
        var box = new CacheSandbox();
        var link = Path.Combine(box.Cache.RepoFolder(Repo), inRepo);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        Directory.CreateSymbolicLink(link, box.Outside);
        using var server = new LoopbackHub(Repo, ModelB);
        using var hub = server.Client(box.Cache);
        var e = Assert.Throws<MlsaeException>(() => hub.File(Repo, "config.json"));
        Assert.Contains("points outside", e.Message);
        Assert.Contains(link, e.Message);
        box.AssertOutsideUntouched();
    }
}

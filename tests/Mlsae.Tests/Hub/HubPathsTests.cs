using Mlsae.Hub;
using Xunit;

namespace Mlsae.Tests.Hub;

/// <summary>The shape rules for names that become cache paths, one accepted and one refused list per rule.</summary>
public class HubPathsTests
{
    [Theory]
    [InlineData("main")]
    [InlineData("v1.0")]
    [InlineData("refs/pr/1")]
    [InlineData("feature/x-y_z")]
    [InlineData("0123456789abcdef0123456789abcdef01234567")]
    [InlineData("0123456789ABCDEF0123456789ABCDEF01234567")]
    public void OrdinaryRevisionsAreAccepted(string revision) => Assert.Equal(revision, HubPaths.Revision(revision));

    [Theory]
    [InlineData("")]
    [InlineData("..")]
    [InlineData("a/../b")]
    [InlineData("/main")]
    [InlineData("main/")]
    [InlineData("a//b")]
    [InlineData("a\\b")]
    [InlineData(".main")]
    [InlineData("refs/.x")]
    [InlineData("main.lock")]
    [InlineData("main.")]
    [InlineData("@")]
    [InlineData("main@{1}")]
    [InlineData("a b")]
    [InlineData("a\tb")]
    [InlineData("a\u007fb")]
    [InlineData("a:b")]
    [InlineData("a~1")]
    [InlineData("a^")]
    [InlineData("a*")]
    [InlineData("a?")]
    [InlineData("a[b")]
    public void BadRevisionsAreRefused(string revision)
    {
        var e = Assert.Throws<MlsaeException>(() => HubPaths.Revision(revision));
        Assert.StartsWith("revision '", e.Message);
    }

    [Theory]
    [InlineData("config.json")]
    [InlineData("data/train-00000.jsonl.zst")]
    [InlineData("a/b/c/d.parquet")]
    [InlineData("..hidden/x..y")]
    [InlineData(".gitattributes")]
    [InlineData("name with spaces.txt")]
    public void RepoFilePathsAreAccepted(string file) => Assert.Equal(file, HubPaths.RepoFile(file, "test"));

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/..")]
    [InlineData("./x")]
    [InlineData("a/./x")]
    [InlineData("/etc/passwd")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("a\\b")]
    [InlineData("a\u0000b")]
    [InlineData("a\nb")]
    public void UnsafeRepoFilePathsAreRefused(string file)
    {
        var e = Assert.Throws<MlsaeException>(() => HubPaths.RepoFile(file, "index.json: shard"));
        Assert.StartsWith("index.json: shard '", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567")]
    [InlineData("\"0123456789abcdef0123456789abcdef01234567\"", "0123456789abcdef0123456789abcdef01234567")]
    [InlineData("W/\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void EtagsAreHexDigests(string header, string digest) => Assert.Equal(digest, HubPaths.Etag(header, "ETag"));

    [Theory]
    [InlineData("")]
    [InlineData("\"\"")]
    [InlineData("../blobs/x")]
    [InlineData("\"0123456789abcdef0123456789abcdef0123456\"")]
    [InlineData("\"0123456789abcdef0123456789abcdef0123456789abcdef\"")]
    [InlineData("w/\"0123456789abcdef0123456789abcdef01234567\"")]
    [InlineData("\"0123456789abcdef0123456789abcdef0123456z\"")]
    public void OtherEtagsAreRefused(string header) =>
        Assert.Contains("not a hex digest", Assert.Throws<MlsaeException>(() => HubPaths.Etag(header, "the ETag header")).Message);

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef0123456")]
    [InlineData("0123456789abcdef0123456789abcdef012345678")]
    [InlineData("../../0123456789abcdef0123456789abcdef01")]
    [InlineData("main")]
    public void CommitsAreExactly40HexDigits(string commit)
    {
        Assert.False(HubPaths.IsCommit(commit));
        Assert.Contains("X-Repo-Commit", Assert.Throws<MlsaeException>(() => HubPaths.Commit(commit, "the X-Repo-Commit header")).Message);
    }

    [Theory]
    [InlineData("..")]
    [InlineData("org/..")]
    [InlineData("../x")]
    [InlineData("org--x/name")]
    [InlineData("a/b/c")]
    [InlineData("/org/name")]
    public void BadRepoIdsAreRefused(string repoId) =>
        Assert.Throws<MlsaeException>(() => new HubCache(Fixtures.TempDir()).RepoFolder(repoId));

    [Fact]
    public void RepoFolderOfAnOrdinaryIdIsInsideTheCache()
    {
        var root = Fixtures.TempDir();
        Assert.Equal(Path.Combine(root, "models--EleutherAI--pythia-70m"), new HubCache(root).RepoFolder("EleutherAI/pythia-70m"));
        Assert.Equal(Path.Combine(root, "datasets--monology--pile-uncopyrighted"), new HubCache(root).RepoFolder("monology/pile-uncopyrighted", "dataset"));
        Assert.Throws<MlsaeException>(() => new HubCache(root).RepoFolder("a/b", "../x"));
    }
}

using System.Text;
using System.Text.Json.Nodes;
using Mlsae.Hub;
using Xunit;

namespace Mlsae.Tests.Hub;

public class HubUploadTests
{
    const string Token = "hf_secret";
    const string Repo = "someone/tiny";

    static HubUpload Writer(WritableHub hub, string? token = Token) =>
        new(new HubSettings { Endpoint = hub.Endpoint, Cache = new HubCache(Fixtures.TempDir()), Token = token });

    /// <summary>A small JSON file (a regular git file) and a 3000-byte weights file (LFS).</summary>
    static List<HubUploadFile> TwoFiles(int seed = 0)
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"k\": 4}");
        var weights = new byte[3000];
        new Random(seed).NextBytes(weights);
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), weights);
        return [new("config.json", Path.Combine(dir, "config.json")), new("model.safetensors", Path.Combine(dir, "model.safetensors"))];
    }

    [Fact]
    public void CreateAndCommitSendTheHubsRequestShapes()
    {
        using var hub = new WritableHub(Token);
        using var writer = Writer(hub);
        var files = TwoFiles();
        Assert.True(writer.CreateRepo(Repo, "model", isPrivate: true));
        Assert.Equal(WritableHub.Commit, writer.Commit(Repo, "model", files, "Upload MLSAE"));

        var create = Assert.Single(hub.To("/api/repos/create")).Json;
        Assert.Equal("tiny", create["name"]!.GetValue<string>());
        Assert.Equal("someone", create["organization"]!.GetValue<string>());
        Assert.Equal("model", create["type"]!.GetValue<string>());
        Assert.True(create["private"]!.GetValue<bool>());

        var preupload = Assert.Single(hub.To($"/api/models/{Repo}/preupload/main", "POST")).Json["files"]!.AsArray();
        var weights = File.ReadAllBytes(files[1].LocalPath);
        Assert.Equal(["config.json", "model.safetensors"], preupload.Select(f => f!["path"]!.GetValue<string>()));
        Assert.Equal(weights[..512], Convert.FromBase64String(preupload[1]!["sample"]!.GetValue<string>()));   // the first 512 bytes
        Assert.Equal(3000, preupload[1]!["size"]!.GetValue<long>());

        var batch = Assert.Single(hub.To($"/{Repo}.git/info/lfs/objects/batch"));
        Assert.Equal(LfsBatch.MediaType, batch.ContentType);
        var objects = batch.Json["objects"]!.AsArray();
        Assert.Equal("upload", batch.Json["operation"]!.GetValue<string>());
        Assert.Equal("sha256", batch.Json["hash_algo"]!.GetValue<string>());
        var only = Assert.Single(objects)!;   // the JSON file is a regular file, not an LFS object
        Assert.Equal(WritableHub.Sha256(weights), only["oid"]!.GetValue<string>());
        Assert.Equal(3000, only["size"]!.GetValue<long>());

        var put = Assert.Single(hub.To("/lfs-upload/", "PUT"));
        Assert.Equal(weights, put.Body);
        Assert.Null(put.Authorization);   // the token never goes to the storage URL
        Assert.Equal($"Bearer {Token}", Assert.Single(hub.To("/lfs-verify/", "POST")).Authorization);   // the verify URL is on the endpoint

        var commit = Assert.Single(hub.To($"/api/models/{Repo}/commit/main"));
        Assert.Equal("application/x-ndjson", commit.ContentType);
        var lines = Encoding.UTF8.GetString(commit.Body).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(["header", "file", "lfsFile"], lines.Select(l => l["key"]!.GetValue<string>()));
        Assert.Equal("Upload MLSAE", lines[0]["value"]!["summary"]!.GetValue<string>());
        Assert.Equal("base64", lines[1]["value"]!["encoding"]!.GetValue<string>());
        Assert.Equal("{\"k\": 4}", Encoding.UTF8.GetString(Convert.FromBase64String(lines[1]["value"]!["content"]!.GetValue<string>())));
        Assert.Equal("sha256", lines[2]["value"]!["algo"]!.GetValue<string>());
        Assert.Equal(WritableHub.Sha256(weights), lines[2]["value"]!["oid"]!.GetValue<string>());
        Assert.Equal(3000, lines[2]["value"]!["size"]!.GetValue<long>());

        Assert.All(hub.Requests.Where(r => r.Path.StartsWith("/api/") || r.Path.Contains(".git/")), r => Assert.Equal($"Bearer {Token}", r.Authorization));
        Assert.Equal(weights, hub.Files[$"model:{Repo}"]["model.safetensors"]);
    }

    [Fact]
    public void AnExistingRepoAndAnLfsObjectTheServerHoldsAreReused()
    {
        using var hub = new WritableHub(Token);
        using var writer = Writer(hub);
        var files = TwoFiles();
        Assert.True(writer.CreateRepo(Repo, "model", isPrivate: false));
        writer.Commit(Repo, "model", files, "first");
        Assert.False(writer.CreateRepo(Repo, "model", isPrivate: false));   // 409: exists, not an error
        writer.Commit(Repo, "model", files, "second");
        Assert.Equal(2, hub.To(".git/info/lfs/objects/batch").Count);
        Assert.Single(hub.To("/lfs-upload/", "PUT"));   // the second batch answered "already present"
        Assert.Equal(2, hub.To("/commit/main").Count);
    }

    [Fact]
    public void MultipartTransferPutsEachPartAndCompletes()
    {
        using var hub = new WritableHub(Token) { MultipartChunk = 1024 };
        using var writer = Writer(hub);
        var files = TwoFiles(seed: 3);
        writer.CreateRepo("someone/parts", "dataset", isPrivate: false);
        writer.Commit("someone/parts", "dataset", files, "parts");
        var puts = hub.To("/lfs-part/", "PUT");
        Assert.Equal([1024, 1024, 952], puts.Select(p => p.Body.Length));
        Assert.Null(Assert.Single(hub.To("/lfs-complete/", "POST")).Authorization);
        Assert.All(puts, p => Assert.Null(p.Authorization));
        Assert.Single(hub.To("/datasets/someone/parts.git/info/lfs/objects/batch"));
        Assert.Equal(File.ReadAllBytes(files[1].LocalPath), hub.Files["dataset:someone/parts"]["model.safetensors"]);
    }

    [Theory]
    [InlineData("/api/repos/create", 403, "creating the repo failed with HTTP 403")]
    [InlineData("/preupload/", 500, "preupload failed with HTTP 500")]
    [InlineData("/lfs-upload/", 503, "uploading 'model.safetensors' failed with HTTP 503")]
    [InlineData("/commit/", 404, "the commit failed with HTTP 404: repository not found")]
    public void ServerErrorsAreOneLineNamingTheRepoAndTheStatus(string route, int status, string expected)
    {
        using var hub = new WritableHub(Token);
        hub.Failures[route] = status;
        using var writer = Writer(hub);
        var e = Assert.Throws<MlsaeException>(() =>
        {
            writer.CreateRepo(Repo, "model", isPrivate: false);
            writer.Commit(Repo, "model", TwoFiles(), "x");
        });
        Assert.StartsWith($"{Repo}: {expected}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void AWrongTokenIsA401AndNoTokenIsRefusedBeforeAnyRequest()
    {
        using var hub = new WritableHub(Token);
        using (var wrong = Writer(hub, "hf_wrong"))
            Assert.Contains("HTTP 401: the token was refused", Assert.Throws<MlsaeException>(() => wrong.CreateRepo(Repo, "model", false)).Message);
        var e = Assert.Throws<MlsaeException>(() => Writer(hub, token: null));
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.Single(hub.Requests);
    }
}

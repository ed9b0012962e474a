using System.Text.Json;
using Mlsae.Hub;
using Xunit;

namespace Mlsae.Tests.Hub;

/// <summary>Names inside a repo (an index's shards, a dataset's file listing) must not lead outside its cache folder.</summary>
public class HostileRepoContentTests
{
    [Theory]
    [InlineData("model.safetensors.index.json", "../../../../outside/evil.safetensors")]
    [InlineData("model.safetensors.index.json", "{outside}/evil.safetensors")]
    [InlineData("pytorch_model.bin.index.json", "shards/../../../../../outside/evil.bin")]
    [InlineData("pytorch_model.bin.index.json", "shards\\..\\evil.bin")]
    [InlineData("model.safetensors.index.json", "./model-00001-of-00002.safetensors")]
    public void HostileShardNameInAHubIndexIsRefused(string indexName, string shard)
    {
        const string repo = "fixture-org/hostile-index";
        var box = new CacheSandbox();
        shard = shard.Replace("{outside}", box.Outside);
        var folder = Fixtures.TempDir();
        File.Copy(Fixtures.Path("gpt_neox", "modelB", "config.json"), Path.Combine(folder, "config.json"));
        File.WriteAllText(Path.Combine(folder, indexName), JsonSerializer.Serialize(new { weight_map = new Dictionary<string, string> { ["embed_out.weight"] = shard } }));
        using var server = new LoopbackHub(repo, folder);
        using var hub = server.Client(box.Cache);
        var e = Assert.Throws<MlsaeException>(() => ModelResolver.Resolve(repo, "main", hub));
        Assert.Contains(indexName, e.Message);
        Assert.Contains(shard, e.Message);
        Assert.DoesNotContain(server.Requests, r => r.Contains("evil"));
        box.AssertOutsideUntouched();
    }

    [Theory]
    [InlineData("../../../../outside/evil.jsonl")]
    [InlineData("train/../../../../../outside/evil.jsonl")]
    [InlineData("/tmp/mlsae-hostile-listing.jsonl")]
    [InlineData("train\\..\\..\\evil.jsonl")]
    [InlineData("train//evil.jsonl")]
    [InlineData("train/./evil.jsonl")]
    [InlineData("train/evil\u0000.jsonl")]
    [InlineData("train/evil\n.jsonl")]
    public void HostileTreeListingEntryIsRefused(string path)
    {
        const string repo = "fixture-org/hostile-listing";
        var box = new CacheSandbox();
        var folder = Fixtures.TempDir();
        Directory.CreateDirectory(Path.Combine(folder, "train"));
        File.WriteAllText(Path.Combine(folder, "train", "00.jsonl"), "{\"text\": \"hello\"}\n");
        using var server = new LoopbackHub(repo, folder);
        server.ExtraTreeEntries.Add(new { type = "file", path, size = 5 });
        using var hub = server.Client(box.Cache);
        var e = Assert.Throws<MlsaeException>(() => HubDataset.Files(hub, repo, "train"));
        Assert.Contains("file listing", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\0', e.Message);
        Assert.False(File.Exists("/tmp/mlsae-hostile-listing.jsonl"));
        Assert.False(File.Exists(box.Cache.Listing(repo, "main")));   // a bad listing is not cached for offline use
        box.AssertOutsideUntouched();
    }
}

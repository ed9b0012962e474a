using System.Text;
using System.Text.Json;
using Mlsae.Data;
using Mlsae.Hub;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.Hub;

[Collection(EnvironmentCollection.Name)]
public class HubDatasetTests
{
    [Fact]
    public void SplitFilesFollowTheDatasetsNamingRules()
    {
        string[] pile = ["README.md", "test.jsonl.zst", "train/00.jsonl.zst", "train/01.jsonl.zst", "val.jsonl.zst"];
        Assert.Equal(["train/00.jsonl.zst", "train/01.jsonl.zst"], HubDataset.SplitFiles(pile, "train"));
        Assert.Equal(["val.jsonl.zst"], HubDataset.SplitFiles(pile, "validation"));
        Assert.Equal(["test.jsonl.zst"], HubDataset.SplitFiles(pile, "test"));
        string[] parquet = ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet", "data/validation-00000-of-00001.parquet", ".gitattributes"];
        Assert.Equal(parquet[..2], HubDataset.SplitFiles(parquet, "train"));
        Assert.Equal([parquet[2]], HubDataset.SplitFiles(parquet, "validation"));
        // No file names a split: everything is train, nothing is test.
        string[] plain = ["a.jsonl", "b/c.parquet", "notes.txt.bak"];
        Assert.Equal(["a.jsonl", "b/c.parquet"], HubDataset.SplitFiles(plain, "train"));
        Assert.Empty(HubDataset.SplitFiles(plain, "test"));
        // "contest" is not "test", "trainer" is not "train".
        Assert.Empty(HubDataset.SplitFiles(["contest.jsonl", "trainer/x.jsonl", "train.txt"], "test"));
        Assert.Equal(["train.txt"], HubDataset.SplitFiles(["contest.jsonl", "trainer/x.jsonl", "train.txt"], "train"));
    }

    [Fact]
    public void DataCommandStreamsAHubDatasetThroughTheCacheAndThenOffline()
    {
        var repo = Fixtures.TempDir();
        var docs = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement
            .GetProperty("documents").EnumerateArray().Select(d => d.GetString()!).ToArray();
        Directory.CreateDirectory(Path.Combine(repo, "train"));
        var half = docs.Length / 2;
        foreach (var (name, part) in new[] { ("train/00.jsonl.zst", docs[..half]), ("train/01.jsonl.zst", docs[half..]), ("val.jsonl.zst", docs[..3]) })
        {
            var lines = Encoding.UTF8.GetBytes(string.Concat(part.Select(d => JsonSerializer.Serialize(new { text = d }) + "\n")));
            File.WriteAllBytes(Path.Combine(repo, name), new ZstdSharp.Compressor(3).Wrap(lines).ToArray());
        }
        File.WriteAllText(Path.Combine(repo, "README.md"), "# a dataset");
        var cache = Fixtures.TempDir();
        var output = Path.Combine(Fixtures.TempDir(), "seqs.jsonl");
        var expected = SequencePacker.Pack(docs, Mlsae.Tokenization.Tokenizer.Load(Fixtures.Path("tokenizer")), 0, 32).ToList();
        string[] args = ["data", "--data", "fixture-org/tiny-pile", "--split", "train", "--tokenizer", Fixtures.Path("tokenizer"), "--max-length", "32", "--out", output];
        using (var server = new LoopbackHub("fixture-org/tiny-pile", repo))
        {
            var r = CliRunner.RunWithEnvironment(new() { ["HF_ENDPOINT"] = server.Endpoint, ["HF_HUB_CACHE"] = cache, ["HF_HUB_OFFLINE"] = null }, args);
            Assert.True(r.ExitCode == 0, r.Error);
            Assert.Contains(server.Requests, q => q.StartsWith("GET /api/datasets/fixture-org/tiny-pile/tree/main", StringComparison.Ordinal));
            Assert.DoesNotContain(server.Requests, q => q.Contains("val.jsonl.zst"));
        }
        Assert.Equal(expected, File.ReadLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("input_ids").EnumerateArray().Select(v => v.GetInt64()).ToArray()));
        File.Delete(output);
        var offline = CliRunner.RunWithEnvironment(new() { ["HF_ENDPOINT"] = "http://127.0.0.1:9", ["HF_HUB_CACHE"] = cache, ["HF_HUB_OFFLINE"] = "1" }, args);
        Assert.True(offline.ExitCode == 0, offline.Error);
        Assert.Equal(expected.Count, File.ReadLines(output).Count());
        var missing = CliRunner.RunWithEnvironment(new() { ["HF_ENDPOINT"] = "http://127.0.0.1:9", ["HF_HUB_CACHE"] = cache, ["HF_HUB_OFFLINE"] = "1" },
            [.. args[..4], "test", .. args[5..]]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no .txt, .jsonl, .jsonl.zst, .parquet files for split 'test'", missing.Error);
    }
}

using Mlsae.Analysis;
using Mlsae.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

public class ShardMergeTests
{
    static string Dists(string dir, string name, Dictionary<string, string> meta)
    {
        var dists = new LayerDists(2, 8);
        using var values = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 1, 1, 2);          // [L, B, T, K]
        using var indices = tensor(new long[] { 0, 3, 5, 7 }).reshape(2, 1, 1, 2);
        dists.Add(values, indices);
        var path = Path.Combine(dir, name);
        dists.Save(path, meta);
        return path;
    }

    static Dictionary<string, string> Meta(string shard) => new() { ["model"] = "m", ["sae"] = "s", ["layers"] = "0,1", ["max_length"] = "8", ["batch_size"] = "1", ["shard"] = shard };

    [Fact]
    public void BadInputsStopAMergeBeforeAnythingIsWritten()
    {
        var dir = Fixtures.TempDir();
        var a = Dists(dir, "a.safetensors", Meta("0/2"));
        var b = Dists(dir, "b.safetensors", Meta("1/2"));
        var (merged, meta) = ShardMerge.Dists([a, b]);
        Assert.Equal("0/1", meta["shard"]);
        Assert.Equal(2, merged.Tokens);

        var badShard = Dists(dir, "bad.safetensors", Meta("one/two"));
        var badLayers = Dists(dir, "layers.safetensors", new Dictionary<string, string>(Meta("0/2")) { ["layers"] = "0,x" });
        var other = Dists(dir, "other.safetensors", new Dictionary<string, string>(Meta("1/2")) { ["sae"] = "t" });
        foreach (var (inputs, message) in new[]
        {
            (new[] { a, badShard }, "bad.safetensors: metadata \"shard\" is 'one/two', not i/n"),
            (new[] { a, other }, "other.safetensors: sae 't' differs"),
        })
        {
            var output = Path.Combine(dir, "out.safetensors");
            var r = CliRunner.Run(["dists", "merge", .. inputs, "--out", output]);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains(message, r.Error);
            Assert.Empty(Directory.EnumerateFiles(dir, "out*"));
        }
        var alone = CliRunner.Run("dists", "merge", badLayers, "--out", Path.Combine(dir, "out.safetensors"));
        Assert.Equal(1, alone.ExitCode);
        Assert.Contains("metadata \"layers\" is '0,x', not a list of layer indices", alone.Error);
        Assert.Empty(Directory.EnumerateFiles(dir, "out*"));
    }
}

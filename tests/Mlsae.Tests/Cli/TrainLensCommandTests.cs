using Mlsae.IO;
using Mlsae.Tests.Training;
using Xunit;

namespace Mlsae.Tests.Cli;

public class TrainLensCommandTests
{
    [Fact]
    public void TrainLensWritesTheLensFolderAndRefusesToOverwriteIt()
    {
        var data = TinyRun.Data(12);
        var dir = Path.Combine(Fixtures.TempDir(), "lens");
        string[] args = ["train-lens", "--model", TinyRun.Model, "--data", data, "--out", dir, "--max-length", "32", "--batch-size", "2",
            "--accumulate-grad-batches", "1", "--num-steps", "3", "--val-batches", "1", "--shuffle-batches", "2"];
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("wrote " + dir, r.Out);
        foreach (var f in new[] { "config.json", "params.pt", "params.safetensors", "train_lens.json", "train_lens_log.jsonl", "train_lens_args.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        using (var pt = TorchCheckpoint.Open(Path.Combine(dir, "params.pt")))
            Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias"], pt.Names);

        var again = CliRunner.Run(args);
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith($"error: --out: {dir} already holds a train-lens run", again.Error.Trim());
    }
}

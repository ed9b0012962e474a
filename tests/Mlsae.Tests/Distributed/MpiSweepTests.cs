using System.Text.Json.Nodes;
using Mlsae.Tests.Serve;
using Xunit;

namespace Mlsae.Tests.Distributed;

/// <summary><c>mlsae sweep</c> on 2 ranks × 1 thread: every member trains data-parallel as
/// <c>train</c> does and ends as the same sweep in one process, rank 0 writing alone.</summary>
[Collection(ServeCollection.Name)]
public sealed class MpiSweepTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    /// <summary>Two members (an MLSAE and a per-layer family over layers 1 and 3), 8 steps of 4 micro-batches of 2 × 32 tokens.</summary>
    static readonly string[] Flags =
    [
        "--kind", "mlsae,per-layer", "--layers", "1,3", "--max-tokens", "2048", "--batch-size", "2", "--max-length", "32", "--expansion-factor", "2",
        "-k", "4", "--auxk", "8", "--val-batches", "0", "--accumulate-grad-batches", "4", "--val-every", "0", "--checkpoint-every", "2", "--log-every", "1", "--seed", "3",
    ];

    /// <summary>As for train over ranks (<see cref="MpiTrainTests"/>): float32 gradient sums in another order.</summary>
    const double Tolerance = 1e-5;

    [Fact]
    public void SweepOverTwoRanks_EndsAsTheSweepInOneProcess()
    {
        if (MpiJob.Require("openmpi") is not { } launcher) return;
        var root = Fixtures.TempDir();
        string one = Path.Combine(root, "one"), spread = Path.Combine(root, "mpi");
        var alone = MpiJob.RunAlone(Timeout, ["sweep", "--out", one, .. Flags]);
        Assert.True(alone.ExitCode == 0, alone.ToString());
        var job = MpiJob.Run(launcher, 2, Timeout, ["sweep", "--out", spread, .. Flags, "--threads-per-rank", "1"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains("distributed: 2 ranks", job.Error);
        Assert.True(File.Exists(Path.Combine(spread, "sweep.json")));
        var members = JsonNode.Parse(File.ReadAllText(Path.Combine(spread, "sweep.json")))!["members"]!.AsArray().Select(m => m!["dir"]!.GetValue<string>()).ToList();
        Assert.Equal(["mlsae-x2-k4", "per-layer-x2-k4"], members);
        foreach (var member in members)
        {
            var run = JsonNode.Parse(File.ReadAllText(Path.Combine(spread, member, "run.json")))!;
            Assert.Equal(2, run["world_size"]!.GetValue<int>());
            var checkpoints = Directory.GetFiles(Path.Combine(one, member), "model.safetensors", SearchOption.AllDirectories)
                .Select(p => Path.GetRelativePath(Path.Combine(one, member), p)).Order().ToList();
            Assert.NotEmpty(checkpoints);
            foreach (var checkpoint in checkpoints)
                MpiTrainTests.AssertTensorsClose(Path.Combine(one, member, checkpoint), Path.Combine(spread, member, checkpoint), Tolerance);
            Assert.Equal(File.ReadAllLines(Path.Combine(one, member, "metrics.jsonl")).Length, File.ReadAllLines(Path.Combine(spread, member, "metrics.jsonl")).Length);
        }
    }
}

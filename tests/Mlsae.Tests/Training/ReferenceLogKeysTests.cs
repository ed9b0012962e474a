using System.Text.Json;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.Training;

/// <summary>metrics.jsonl carries the reference's Lightning log keys beside this tool's.</summary>
public class ReferenceLogKeysTests
{
    [Fact]
    public void EveryStepLineHasTheReferencesKeysLabelledByModelLayerEqualToTheExistingValues()
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run(TinyRun.TrainArgs(TinyRun.Data(40), run, steps: 3, "--layers", "1"));
        Assert.True(r.ExitCode == 0, r.Error);
        var lines = TinyRun.Metrics(run).Where(m => m.TryGetProperty("fvu_mean", out _)).ToList();
        Assert.Equal(3, lines.Count);
        foreach (var line in lines)
        {
            double Get(string key) => line.GetProperty(key).GetDouble();
            // Equal to the keys this tool already wrote (same sums, same division: exact).
            Assert.Equal(Get("loss"), Get("loss/total"));
            Assert.Equal(Get("loss_mse"), Get("loss/mse"));
            Assert.Equal(Get("loss_auxk"), Get("loss/auxk"));
            Assert.Equal(line.GetProperty("fvu")[0].GetDouble(), Get("train/fvu/layer_1"));
            Assert.Equal(Get("fvu_mean"), Get("train/fvu/avg"));
            Assert.Equal(Get("dead_fraction"), Get("train/dead/abs"));
            Assert.Equal(Get("train/dead/abs"), Get("dead/abs"));
            Assert.Equal(Get("train/dead/rel"), Get("dead/rel"));
            // Labelled by the model layer index (layer 1 alone), each with its avg over layers.
            Assert.False(line.TryGetProperty("train/l1/layer_0", out _));
            Assert.Equal(Get("train/l1/layer_1"), Get("train/l1/avg"));
            Assert.Equal(Get("train/mse/layer_1"), Get("train/mse/avg"));
            // L1 of K = 4 ReLU'd values per token is positive; MSE is FVU times the input variance, positive.
            Assert.True(Get("train/l1/avg") > 0 && Get("train/mse/avg") > 0);
            // dead/rel: latents never selected in a batch of 64 tokens (64 / 1e7 < 1), at most (128 − 4) / 128 of them.
            Assert.InRange(Get("train/dead/rel"), 0, 124.0 / 128);
        }
    }
}

using System.Text.Json.Nodes;
using Mlsae.Sweeps;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Training;
using Xunit;

namespace Mlsae.Tests.Sweeps;

/// <summary><c>mlsae sweep</c>: members trained from one transformer pass per batch end exactly as
/// the same runs trained alone; the sweep resumes as a whole, also with members at different steps.</summary>
public class SweepTests
{
    static string[] SweepArgs(string data, string output, int steps, params string[] extra)
    {
        // TinyRun's train flags without train's own --expansion-factor and -k (a sweep lists them).
        var train = TinyRun.TrainArgs(data, output, steps, "--checkpoint-every", "1", "--val-every", "2").ToList();
        foreach (var flag in new[] { "--expansion-factor", "-k" })
        {
            int at = train.IndexOf(flag);
            train.RemoveRange(at, 2);
        }
        train[0] = "sweep";
        return [.. train, "--expansion-factor", "2,4", "-k", "4,8", .. extra];
    }

    static void AssertSameRun(string expected, string actual)
    {
        // Every checkpoint file (a per-layer family keeps one per layer folder) and the training state.
        var weights = Directory.GetFiles(expected, "model.safetensors", SearchOption.AllDirectories).Append(Path.Combine(expected, "state", "training_state.safetensors")).ToList();
        Assert.NotEmpty(weights);
        foreach (var file in weights)
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, Path.GetRelativePath(expected, file)))), file);
        Assert.Equal(TinyRun.LinesWithoutTime(Path.Combine(expected, "metrics.jsonl")), TinyRun.LinesWithoutTime(Path.Combine(actual, "metrics.jsonl")));
        Assert.Equal(File.ReadAllText(Path.Combine(expected, "eval.json")), File.ReadAllText(Path.Combine(actual, "eval.json")));
    }

    [Fact]
    public void AMemberEndsExactlyAsTheSameRunTrainedAloneAndTheTableListsEveryMember()
    {
        var data = TinyRun.Data(40, seed: 4);
        var sweep = Path.Combine(Fixtures.TempDir(), "sweep");
        var r = CliRunner.Run(SweepArgs(data, sweep, steps: 4));
        Assert.True(r.ExitCode == 0, r.Error);
        var solo = Path.Combine(Fixtures.TempDir(), "solo");
        var s = CliRunner.Run(TinyRun.TrainArgs(data, solo, 4, "--checkpoint-every", "1", "--val-every", "2", "--expansion-factor", "4", "-k", "8"));
        Assert.True(s.ExitCode == 0, s.Error);
        AssertSameRun(solo, Path.Combine(sweep, "mlsae-x4-k8"));

        var table = JsonNode.Parse(File.ReadAllText(Path.Combine(sweep, Sweep.SweepFile)))!["members"]!.AsArray();
        Assert.Equal(["mlsae-x2-k4", "mlsae-x2-k8", "mlsae-x4-k4", "mlsae-x4-k8"], table.Select(m => m!["dir"]!.GetValue<string>()));
        foreach (var member in table)
        {
            Assert.Equal("mlsae", member!["kind"]!.GetValue<string>());
            Assert.Equal(2, member["fvu"]!.AsArray().Count);                        // per layer of the 2-layer model
            Assert.True(member["delta_ce_loss_mean"]!.GetValue<double>() is var ce && double.IsFinite(ce));
            Assert.Equal(2 * member["k"]!.GetValue<int>(), member["active_codes_per_token"]!.GetValue<int>());
            int latents = 32 * member["expansion_factor"]!.GetValue<int>();
            Assert.Equal(2L * latents * 32 + 32, member["parameters"]!.GetValue<long>());   // encoder, decoder, bias
        }
        Assert.Contains("| mlsae-x4-k8 | mlsae | 4 | 8 |", File.ReadAllText(Path.Combine(sweep, Sweep.MarkdownFile)));
        foreach (var figure in Mlsae.Reports.SweepFigures.Files.Values) Assert.True(new FileInfo(Path.Combine(sweep, figure)).Length > 1000, figure);
        Assert.True(File.Exists(Path.Combine(sweep, "mlsae-x2-k4", "report.html")));
    }

    [Fact]
    public void ASweepResumesToTheStraightSweepAlsoWhenItsMembersStoodAtDifferentSteps()
    {
        var data = TinyRun.Data(40, seed: 5);
        var straight = Path.Combine(Fixtures.TempDir(), "straight");
        Assert.Equal(0, CliRunner.Run(SweepArgs(data, straight, steps: 4)).ExitCode);

        var resumed = Path.Combine(Fixtures.TempDir(), "resumed");
        Assert.Equal(0, CliRunner.Run(SweepArgs(data, resumed, steps: 2)).ExitCode);
        foreach (var dir in Directory.GetDirectories(resumed))
        {
            var runJson = Path.Combine(dir, "run.json");
            var options = JsonNode.Parse(File.ReadAllText(runJson))!.AsObject();
            options["max_tokens"] = 4 * 2 * 2 * 32;
            File.WriteAllText(runJson, options.ToJsonString());
        }
        // One member as if killed before its first checkpoint: it starts over while the others continue.
        Directory.Delete(Path.Combine(resumed, "mlsae-x2-k8", "state"), recursive: true);
        var r = CliRunner.Run("sweep", "--resume", "--out", resumed);
        Assert.True(r.ExitCode == 0, r.Error);
        foreach (var member in new[] { "mlsae-x2-k4", "mlsae-x2-k8", "mlsae-x4-k4", "mlsae-x4-k8" })
            AssertSameRun(Path.Combine(straight, member), Path.Combine(resumed, member));
    }

    [Fact]
    public void PerLayerAndCrosscoderMembersEndAsTheirSoloRuns()
    {
        var data = TinyRun.Data(24, seed: 6);
        var sweep = Path.Combine(Fixtures.TempDir(), "kinds");
        var args = SweepArgs(data, sweep, steps: 3).ToList();
        args[args.IndexOf("--expansion-factor") + 1] = "2";
        args[args.IndexOf("-k") + 1] = "4";
        var r = CliRunner.Run([.. args, "--kind", "per-layer,crosscoder"]);
        Assert.True(r.ExitCode == 0, r.Error);
        foreach (var (kind, k) in new[] { ("per-layer", 4), ("crosscoder", 8) })   // the crosscoder keeps k × 2 layers per token
        {
            var solo = Path.Combine(Fixtures.TempDir(), kind);
            var s = CliRunner.Run(TinyRun.TrainArgs(data, solo, 3, "--checkpoint-every", "1", "--val-every", "2", "--expansion-factor", "2", "-k", k.ToString(), "--kind", kind));
            Assert.True(s.ExitCode == 0, s.Error);
            AssertSameRun(solo, Path.Combine(sweep, $"{kind}-x2-k{k}"));
        }
    }

    [Theory]
    [InlineData("--expansion-factor", "2,,4", "--expansion-factor: '2,,4' has an empty item")]
    [InlineData("-k", "0", "-k: '0' is not a positive integer")]
    [InlineData("--kind", "mlsae,transcoder", "--kind: unknown kind 'transcoder'")]
    public void BadMemberListsAreOneLineErrorsNamingTheFlag(string flag, string value, string message)
    {
        var data = TinyRun.Data(8);
        var args = SweepArgs(data, Path.Combine(Fixtures.TempDir(), "bad"), steps: 1).ToList();
        int at = args.LastIndexOf(flag);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([flag, value]);
        var r = CliRunner.Run([.. args]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
    }

    [Fact]
    public void AConfigNamesEachMemberAndRefusesUnknownKeysAndRepeats()
    {
        var path = Path.Combine(Fixtures.TempDir(), "members.json");
        File.WriteAllText(path, """{"members": [{"kind": "crosscoder", "expansion_factor": 8, "k": 96}, {"kind": "mlsae", "expansion_factor": 8, "k": 16}]}""");
        Assert.Equal([new SweepMember("crosscoder", 8, 96), new SweepMember("mlsae", 8, 16)], SweepPlan.FromConfig(path));
        File.WriteAllText(path, """{"members": [{"kind": "mlsae", "expansion_factor": 8, "k": 16, "lr": 1}]}""");
        Assert.Contains("unknown key \"lr\"", Assert.Throws<MlsaeException>(() => SweepPlan.FromConfig(path)).Message);
        File.WriteAllText(path, """{"members": [{"kind": "mlsae", "expansion_factor": 8, "k": 16}, {"kind": "mlsae", "expansion_factor": 8, "k": 16}]}""");
        Assert.Contains("mlsae-x8-k16 is named twice", Assert.Throws<MlsaeException>(() => SweepPlan.FromConfig(path)).Message);
        // The list form gives a crosscoder k × layers active latents per token.
        Assert.Equal([new SweepMember("mlsae", 8, 16), new SweepMember("crosscoder", 8, 96)], SweepPlan.FromLists("mlsae,crosscoder", "8", "16", layers: 6));
    }
}

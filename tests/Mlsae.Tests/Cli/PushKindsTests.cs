using System.Text.Json.Nodes;
using Mlsae.Tests.Coders;
using Mlsae.Tests.Hub;
using Xunit;

namespace Mlsae.Tests.Cli;

/// <summary><c>mlsae push</c> of a per-layer family and of a crosscoder (their checkpoint files as the
/// run holds them, no <c>-tfm</c> repo), and <c>--sae &lt;hub id&gt;</c> loading each back: eval from the
/// hub equals eval from the run folder exactly.</summary>
[Collection(EnvironmentCollection.Name)]
public class PushKindsTests
{
    const string Token = "hf_push_secret";

    static Dictionary<string, string?> Environment(WritableHub hub, string cache) => PushCommandTests.Environment(hub, Token, cache);

    [Theory]
    [InlineData("per-layer", new[] { "config.json", "layer-1/config.json", "layer-1/model.safetensors", "layer-3/config.json", "layer-3/model.safetensors" })]
    [InlineData("crosscoder", new[] { "config.json", "model.safetensors" })]
    public void PushedKindLoadsBackFromItsHubId(string kind, string[] files)
    {
        var run = Path.Combine(Fixtures.TempDir(), kind);
        KindRuns.Train(kind, run, 256, "--layers", "1,3");
        using var hub = new WritableHub(Token);
        var cache = Fixtures.TempDir();
        var push = CliRunner.RunWithEnvironment(Environment(hub, cache), "push", "--run", run, "--repo", $"someone/{kind}");
        Assert.True(push.ExitCode == 0, push.Error);
        Assert.DoesNotContain($"model:someone/{kind}-tfm", hub.Repos);
        Assert.Equal(files.Order(), hub.Files[$"model:someone/{kind}"].Keys.Order());
        Assert.Contains($"dataset:someone/{kind}-dists", hub.Repos);

        string[] Eval(string sae, string output) => ["eval", "--sae", sae, "--model", "embedded", "--layers", "1,3", "--max-length", "32", "--batch-size", "2",
            "--max-tokens", "128", "--no-downstream", "--out", output];
        var dir = Fixtures.TempDir();
        var local = CliRunner.Run(Eval(run, Path.Combine(dir, "local.json")));
        Assert.True(local.ExitCode == 0, local.Error);
        var pulled = CliRunner.RunWithEnvironment(Environment(hub, cache), Eval($"someone/{kind}", Path.Combine(dir, "hub.json")));
        Assert.True(pulled.ExitCode == 0, pulled.Error);
        var a = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "local.json")))!.AsObject();
        var b = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "hub.json")))!.AsObject();
        foreach (var key in new[] { "fvu", "mse", "l0", "l1", "layers", "tokens" })
            Assert.Equal(a[key]!.ToJsonString(), b[key]!.ToJsonString());
    }
}

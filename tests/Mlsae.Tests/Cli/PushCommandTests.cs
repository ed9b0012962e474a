using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Hub;
using Mlsae.Runs;
using Mlsae.Tests.Hub;
using Mlsae.Tests.Runs;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Cli;

[Collection(EnvironmentCollection.Name)]
public class PushCommandTests
{
    const string Token = "hf_push_secret";

    /// <summary>The environment of a command against <paramref name="hub"/>: its endpoint, a fresh cache and
    /// HF_HOME (so no token file of this machine is read), and <paramref name="token"/>.</summary>
    internal static Dictionary<string, string?> Environment(WritableHub hub, string? token, string cache)
    {
        var home = Fixtures.TempDir();
        return new()
        {
            ["HF_ENDPOINT"] = hub.Endpoint, ["HF_TOKEN"] = token, ["HF_HUB_CACHE"] = cache, ["HF_HOME"] = home,
            ["HF_TOKEN_PATH"] = null, ["HF_HUB_OFFLINE"] = null,
        };
    }

    [Fact]
    public void PushedCheckpointsLoadBackThroughSaeBothWaysAndDistsPullBack()
    {
        var run = PushFixture.Create();
        using var hub = new WritableHub(Token);
        var cache = Fixtures.TempDir();
        var r = CliRunner.RunWithEnvironment(Environment(hub, Token, cache), "push", "--run", run, "--repo", "someone/tiny", "--private");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("pushed 4 repos", r.Out);
        Assert.Equal(["dataset:someone/tiny-dists", "dataset:someone/tiny-examples", "model:someone/tiny", "model:someone/tiny-tfm"], hub.Repos.Order());
        Assert.All(hub.To("/api/repos/create"), c => Assert.True(c.Json["private"]!.GetValue<bool>()));

        // Both layouts load back, through the --sae resolution, to the run's tensors exactly.
        using var client = new HubClient(new HubSettings { Endpoint = hub.Endpoint, Cache = new HubCache(cache), Token = Token });
        using var scope = NewDisposeScope();
        using var original = MlsaeCheckpoint.Load(run, new SparseCoderSettings());
        foreach (var repo in new[] { "someone/tiny", "someone/tiny-tfm" })
        {
            using var pulled = MlsaeCheckpoint.Load(MlsaeCheckpoint.Resolve(repo, "main", () => client), new SparseCoderSettings());
            Assert.Equal(original.Autoencoder.Config, pulled.Autoencoder.Config);
            Fixtures.AssertClose(original.Autoencoder.Encoder, pulled.Autoencoder.Encoder, atol: 0, what: $"{repo} encoder");
            Fixtures.AssertClose(original.Autoencoder.Decoder, pulled.Autoencoder.Decoder, atol: 0, what: $"{repo} decoder");
            Fixtures.AssertClose(original.Autoencoder.PreEncoderBias, pulled.Autoencoder.PreEncoderBias, atol: 0, what: $"{repo} bias");
        }
        Assert.Equal("EleutherAI/pythia-70m-deduped", MlsaeCheckpoint.Load(MlsaeCheckpoint.Resolve("someone/tiny-tfm", "main", () => client), new SparseCoderSettings()).ModelName);

        // The CLI's --sae reads the hub id too.
        var mmcs = CliRunner.RunWithEnvironment(Environment(hub, Token, cache), "mmcs", "--sae", "someone/tiny-tfm");
        Assert.True(mmcs.ExitCode == 0, mmcs.Error);

        // The dists dataset pulls back byte for byte, and report draws from it.
        var pulledDists = DatasetFile.Resolve("someone/tiny-dists", Run.DistsFile, "--dists", () => client);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, Run.DistsFile)), File.ReadAllBytes(pulledDists));
        var examples = DatasetFile.Resolve("someone/tiny-examples", RunPush.ExamplesFile, "--examples", () => client);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, RunPush.ExamplesFile)), File.ReadAllBytes(examples));
        // Beside our files, the datasets layout: the Parquet train split and the card that points load_dataset at it.
        foreach (var repo in new[] { "dataset:someone/tiny-dists", "dataset:someone/tiny-examples" })
        {
            Assert.Contains("data/train-00000-of-00001.parquet", hub.Files[repo].Keys);
            Assert.Contains("    path: data/train-*\n", System.Text.Encoding.UTF8.GetString(hub.Files[repo]["README.md"]));
        }
        var bare = PushFixture.Create(analyses: false);
        var report = CliRunner.RunWithEnvironment(Environment(hub, Token, cache), "report", "--run", bare, "--dists", "someone/tiny-dists");
        Assert.True(report.ExitCode == 0, report.Error);
        Assert.True(File.Exists(Path.Combine(bare, "dists_heatmap.png")));
        Assert.Contains("dists_heatmap", File.ReadAllText(Path.Combine(bare, "report.html")));
    }

    [Fact]
    public void MissingTokenIsAOneLineErrorBeforeAnyRequest()
    {
        var run = PushFixture.Create(analyses: false);
        using var hub = new WritableHub(Token);
        var r = CliRunner.RunWithEnvironment(Environment(hub, null, Fixtures.TempDir()), "push", "--run", run, "--repo", "someone/tiny");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.StartsWith("error: push: no hub token; set HF_TOKEN", r.Error);
        Assert.Single(r.Error.TrimEnd().Split('\n'));
        Assert.Empty(hub.Requests);
    }

    [Fact]
    public void A403IsAOneLineErrorNamingTheRepoAndTheStatus()
    {
        var run = PushFixture.Create(analyses: false);
        using var hub = new WritableHub(Token);
        hub.Failures["/api/repos/create"] = 403;
        var r = CliRunner.RunWithEnvironment(Environment(hub, Token, Fixtures.TempDir()), "push", "--run", run, "--repo", "someone/tiny");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.StartsWith("error: someone/tiny: creating the repo failed with HTTP 403", r.Error);
        Assert.Single(r.Error.TrimEnd().Split('\n'));
    }
}

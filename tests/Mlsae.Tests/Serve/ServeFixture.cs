using Mlsae.Analysis;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Explorer;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Serve;
using Mlsae.Training;
using Mlsae.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Serve;

/// <summary>
/// One tiny run on the embedded model (it has a tokenizer, so text prompts work: 2 × 32-token
/// batches, x2 latents, k 4), trained once through the real <c>train</c> command, and an explorer
/// server over it on a free loopback port, shared by the API and browser tests.
/// </summary>
public sealed class ServeFixture : IAsyncLifetime
{
    public string RunFolder { get; private set; } = "";
    public string TrainOutput { get; private set; } = "";
    public Mlsae.Serve.Explorer Explorer { get; private set; } = null!;
    public ExplorerServer Server { get; private set; } = null!;
    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public async Task InitializeAsync()
    {
        RunFolder = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run("train", "--out", RunFolder, "--max-tokens", "2048", "--batch-size", "2", "--max-length", "32", "--expansion-factor", "2",
            "-k", "4", "--auxk", "8", "--val-batches", "2", "--accumulate-grad-batches", "1", "--val-every", "0", "--seed", "3");
        Assert.True(r.ExitCode == 0, r.Error);
        TrainOutput = r.Out;
        Explorer = Open(RunFolder);
        Server = await ExplorerServer.StartAsync(Explorer, new ServeOptions { Port = 0 });
        Client.BaseAddress = new Uri(Server.Url);
    }

    /// <summary>An explorer over a run folder, loaded as <c>mlsae serve --sae run</c> loads it.</summary>
    public static Mlsae.Serve.Explorer Open(string folder)
    {
        var run = Run.Open(folder);
        var sae = SparseCoderRegistry.Load(folder, CoderSettings.Of(run.Options) with { ComputeDType = ScalarType.Float32 }, CPU).Coder;
        var model = ModelSession.Open(run.Options.Model.Name, "main", string.Join(",", run.Options.Model.Layers!), CPU, ScalarType.Float32, true,
            () => throw new InvalidOperationException("no hub in tests"));
        var dists = LayerDists.Load(run.PathOf(Run.DistsFile)).Dists;
        return new Mlsae.Serve.Explorer
        {
            Model = model, Sae = sae, SaeName = folder, Tokenizer = model.Tokenizer,
            Examples = new ExamplesQueries(run.PathOf(Run.ExamplesFile)),
            Catalog = LatentCatalog.From(dists, model.Layers.Length, sae.NLatents, run.PathOf(Run.DistsFile)),
            Run = RunOverview.Read(folder),
        };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        Explorer.Dispose();
    }
}

/// <summary>The explorer tests: one server, and the browser tests run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServeCollection : ICollectionFixture<ServeFixture>
{
    public const string Name = "serve";
}

using Mlsae.Hub;
using Mlsae.Interop;
using Mlsae.Tests.Hub;
using Xunit;

namespace Mlsae.Tests.Interop;

/// <summary>External SAEs by hub id, from a loopback hub laid out like
/// <c>EleutherAI/sae-pythia-70m-deduped-32k</c>: only the block-output SAEs are fetched.</summary>
public class ExternalSaeSourceTests
{
    const string Repo = "EleutherAI/sae-pythia-70m-deduped-32k";
    const int D = 8, F = 32, K = 4;

    static string RepoFolder()
    {
        var root = Fixtures.TempDir();
        using var w = ExternalSaeFiles.Random(D, F, seed: 41);
        foreach (var hookpoint in new[] { "layers.0", "layers.0.attention", "layers.0.mlp", "layers.1", "layers.1.mlp" })
            w.WriteSparsify(Path.Combine(root, hookpoint), ExternalSaeFiles.Sparsify2024Cfg(D, F, K));
        File.WriteAllText(Path.Combine(root, "config.json"), "{\"model\": \"EleutherAI/pythia-70m-deduped\"}");
        return root;
    }

    [Fact]
    public void AHubRepoOfHookpointFoldersFetchesOnlyTheWantedBlockOutputs()
    {
        using var server = new LoopbackHub(Repo, RepoFolder());
        var cache = new HubCache(Fixtures.TempDir());
        using var hub = server.Client(cache);
        using (var set = ExternalSaeSource.Open(Repo, "main", () => hub))
        {
            Assert.Equal(new[] { 0, 1 }, set.Layers);
            Assert.Equal(LoopbackHub.Commit, set.Revision);
            Assert.Equal(Repo, set.Source);
            Assert.Equal("EleutherAI/pythia-70m-deduped", set.ByLayer[0].Config.ModelName);
        }
        // (Every hookpoint's weights here are the same bytes, so one blob serves them all: HEADs count.)
        Assert.Contains($"HEAD /{Repo}/resolve/main/layers.1/sae.safetensors", server.Requests);
        Assert.Contains($"HEAD /{Repo}/resolve/main/config.json", server.Requests);
        Assert.DoesNotContain(server.Requests, r => r.Contains(".mlp/") || r.Contains(".attention/"));

        // One layer, then offline from the cache alone.
        using (var one = ExternalSaeSource.Open(Repo, "main", () => hub, layers: [1])) Assert.Equal(new[] { 1 }, one.Layers);
        using var offline = new HubClient(new HubSettings { Endpoint = "http://127.0.0.1:9", Cache = cache, Offline = true });
        using (var again = ExternalSaeSource.Open(Repo, "main", () => offline)) Assert.Equal(new[] { 0, 1 }, again.Layers);
    }

    [Fact]
    public void AFolderOfTheRepoIsOneSaeAndLocalFoldersNeedNoHub()
    {
        var local = RepoFolder();
        using var server = new LoopbackHub(Repo, local);
        using var hub = server.Client(new HubCache(Fixtures.TempDir()));
        using (var set = ExternalSaeSource.Open($"{Repo}/layers.1", "main", () => hub))
        {
            Assert.Equal(new[] { 1 }, set.Layers);
            Assert.Equal("EleutherAI/pythia-70m-deduped", set.ByLayer[1].Config.ModelName);
        }
        HubClient NoHub() => throw new InvalidOperationException("no hub in this step");
        using (var set = ExternalSaeSource.Open(local, "main", NoHub)) Assert.Equal(new[] { 0, 1 }, set.Layers);
        var e = Assert.Throws<MlsaeException>(() => ExternalSaeSource.Resolve("../x/../y", "main", NoHub));
        Assert.Contains("is neither a folder nor a hub id", e.Message);
        e = Assert.Throws<MlsaeException>(() => ExternalSaeSource.Resolve(Path.Combine(local, "config.json"), "main", NoHub));
        Assert.Contains("is a file", e.Message);
        e = Assert.Throws<MlsaeException>(() => ExternalSaeSource.Open($"{Repo}/layers.9", "main", () => hub).Dispose());
        Assert.Contains("no SAELens or sparsify SAE in 'layers.9'", e.Message);
        e = Assert.Throws<MlsaeException>(() => ExternalSaeSource.Open(Repo, "main", () => hub, layers: [4]).Dispose());
        Assert.Contains("none of its SAEs is on layer 4", e.Message);
    }

    [Fact]
    public void SaeLensFoldersOnTheHubAreChosenByTheirHookName()
    {
        var root = Fixtures.TempDir();
        using (var w = ExternalSaeFiles.Random(D, F, seed: 43))
        {
            w.WriteSaeLens(Path.Combine(root, "res_2"), ExternalSaeFiles.SaeLens6Cfg(D, F, K, hook: "blocks.2.hook_resid_post"));
            w.WriteSaeLens(Path.Combine(root, "mlp_2"), ExternalSaeFiles.SaeLens6Cfg(D, F, K, hook: "blocks.2.hook_mlp_out"));
        }
        const string repo = "someone/pythia-saes";
        using var server = new LoopbackHub(repo, root);
        using var hub = server.Client(new HubCache(Fixtures.TempDir()));
        using var set = ExternalSaeSource.Open(repo, "main", () => hub);
        Assert.Equal(new[] { 2 }, set.Layers);
        Assert.DoesNotContain(server.Requests, r => r.Contains("mlp_2/sae_weights.safetensors"));
    }
}

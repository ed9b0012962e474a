using Mlsae.Hub;
using Mlsae.Lens;
using Mlsae.Tests.Hub;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Lens;

/// <summary>Lens ids and <c>pretrained</c> resolve into the tuned-lens Space on the hub, with the
/// Space URL layout and huggingface_hub's cache folder; folders and <c>embedded</c> resolve locally.</summary>
public class TunedLensSourceTests
{
    const string LensId = "EleutherAI/pythia-70m-deduped";

    static string SpaceFolder()
    {
        var root = Path.Combine(Fixtures.TempDir(), "space");
        LensFolder.Write(new float[2, 4, 4], new float[2, 4], folder: Path.Combine(root, "lens", LensId));
        return root;
    }

    [Fact]
    public void ALensIdIsFetchedFromTheSpaceIntoSpacesCacheFolder()
    {
        var space = SpaceFolder();
        using var server = new LoopbackHub(TunedLensSource.SpaceRepo, space);
        var cache = new HubCache(Fixtures.TempDir());
        using var hub = server.Client(cache);
        var resolved = TunedLensSource.Resolve(LensId, "other/model", () => hub);
        Assert.Contains($"HEAD /spaces/AlignmentResearch/tuned-lens/resolve/main/lens/{LensId}/params.pt", server.Requests);
        Assert.Contains($"GET /spaces/AlignmentResearch/tuned-lens/resolve/main/lens/{LensId}/config.json", server.Requests);
        var expected = Path.Combine(cache.Root, "spaces--AlignmentResearch--tuned-lens", "snapshots", LoopbackHub.Commit, "lens", "EleutherAI", "pythia-70m-deduped");
        Assert.Equal(expected, resolved.Folder);
        Assert.Equal(LensId, resolved.Source);
        Assert.Equal(LoopbackHub.Commit, resolved.Revision);
        Assert.Equal(LoopbackHub.Commit, File.ReadAllText(Path.Combine(cache.Root, "spaces--AlignmentResearch--tuned-lens", "refs", "main")));
        using var scope = NewDisposeScope();
        using var lens = TunedLens.Load(resolved.Folder, CPU, resolved.Source, resolved.Revision);
        Assert.Equal(2, lens.Translators);

        // pretrained is the model's own id, and a second resolution comes from the cache alone.
        using var offline = new HubClient(new HubSettings { Endpoint = "http://127.0.0.1:9", Cache = cache, Offline = true });
        Assert.Equal(expected, TunedLensSource.Resolve(TunedLensSource.Pretrained, LensId, () => offline).Folder);
    }

    [Fact]
    public void FoldersAndBadValuesResolveWithoutTheHub()
    {
        var folder = LensFolder.Zero(1, 2);
        HubClient NoHub() => throw new InvalidOperationException("no hub in this test");
        Assert.Equal(folder, TunedLensSource.Resolve(folder, "m", NoHub).Folder);
        Assert.Equal(Path.GetFullPath(folder), TunedLensSource.Resolve(folder, "m", NoHub).Source);
        var e = Assert.Throws<MlsaeException>(() => TunedLensSource.Resolve(TunedLensSource.Pretrained, folder, NoHub));
        Assert.StartsWith("--tuned-lens pretrained: the model", e.Message);
        e = Assert.Throws<MlsaeException>(() => TunedLensSource.Resolve("../x/../y", "m", NoHub));
        Assert.Contains("is neither a lens folder", e.Message);
        e = Assert.Throws<MlsaeException>(() => TunedLensSource.Resolve(Path.Combine(folder, "config.json"), "m", NoHub));
        Assert.Contains("is a file", e.Message);
    }
}

using Mlsae.Embedded;
using Mlsae.Hub;
using static TorchSharp.torch;

namespace Mlsae.Lens;

/// <summary>
/// Turns a <c>--tuned-lens</c> value into a lens folder: a local folder; <c>embedded</c> (the lens
/// shipped beside the embedded model); <c>pretrained</c> (the published lens for the model's hub id,
/// or the embedded lens for the embedded model); or a lens id of the tuned-lens Space, whose
/// <c>lens/&lt;id&gt;/config.json</c> and <c>params.pt</c> are fetched into the HF cache as
/// <c>spaces--AlignmentResearch--tuned-lens</c>, as the <c>tuned-lens</c> package's
/// <c>load_lens_artifacts</c> does (so a cache Python filled is reused).
/// </summary>
public static class TunedLensSource
{
    /// <summary>The hub repo the tuned-lens package publishes its lenses in.</summary>
    public const string SpaceRepo = "AlignmentResearch/tuned-lens";
    /// <summary>Its repo type.</summary>
    public const string SpaceRepoType = "space";
    /// <summary>The value naming the published lens of the model.</summary>
    public const string Pretrained = "pretrained";
    /// <summary>The value naming the embedded model's lens.</summary>
    public const string Embedded = "embedded";

    /// <summary>The embedded model's lens folder, beside the executable.</summary>
    public static string EmbeddedFolder => Path.Combine(AppContext.BaseDirectory, "embedded", "tuned-lens");

    /// <summary>A resolved lens: its local <paramref name="Folder"/>, the <paramref name="Source"/> to
    /// record, and the Space commit it was read at (null off the hub).</summary>
    public sealed record Resolved(string Folder, string Source, string? Revision);

    /// <summary>Resolves <paramref name="spec"/> for the model named <paramref name="modelName"/> (as
    /// <c>--model</c> names it). <paramref name="hub"/> is called only when the hub is needed;
    /// <paramref name="revision"/> is the Space revision of a hub lens.</summary>
    public static Resolved Resolve(string spec, string modelName, Func<HubClient> hub, string revision = "main")
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new MlsaeException("--tuned-lens: an empty value (a lens folder, a lens id, pretrained or embedded)");
        if (spec == Embedded || (spec == Pretrained && modelName == EmbeddedModel.Name))
        {
            if (!File.Exists(Path.Combine(EmbeddedFolder, TunedLensConfig.FileName)))
                throw new MlsaeException($"--tuned-lens {spec}: the embedded model's lens is missing from {EmbeddedFolder} (train one with train-lens, or pass a lens folder)");
            return new Resolved(EmbeddedFolder, Embedded, null);
        }
        string lensId;
        if (spec == Pretrained)
        {
            if (Directory.Exists(modelName) || !HubClient.LooksLikeRepoId(modelName))
                throw new MlsaeException($"--tuned-lens pretrained: the model '{modelName}' is a local folder, not a hub id, so its published lens is unknown; pass the lens id (e.g. EleutherAI/pythia-70m-deduped) or a lens folder");
            lensId = modelName;
        }
        else if (Directory.Exists(spec)) return new Resolved(spec, Path.GetFullPath(spec), null);
        else if (File.Exists(spec)) throw new MlsaeException($"--tuned-lens: '{spec}' is a file; pass the folder holding config.json and params.pt");
        else if (HubClient.LooksLikeRepoId(spec) && !spec.StartsWith('.')) lensId = spec;
        else throw new MlsaeException($"--tuned-lens: '{spec}' is neither a lens folder, a lens id of the {SpaceRepo} Space, pretrained nor embedded");
        var client = hub();
        // The package fetches params.pt first, then config.json; a missing lens is "file not found" on either.
        var folder = $"lens/{lensId}";
        client.File(SpaceRepo, $"{folder}/{TunedLens.ParamsFile}", revision, repoType: SpaceRepoType);
        var config = client.File(SpaceRepo, $"{folder}/{TunedLensConfig.FileName}", revision, repoType: SpaceRepoType)!;
        return new Resolved(Path.GetDirectoryName(config)!, lensId, client.Cache.Commit(SpaceRepo, revision, SpaceRepoType));
    }

    /// <summary>Resolves and loads <paramref name="spec"/> onto <paramref name="device"/>.</summary>
    public static TunedLens Open(string spec, string modelName, Func<HubClient> hub, Device device, string revision = "main")
    {
        var resolved = Resolve(spec, modelName, hub, revision);
        return TunedLens.Load(resolved.Folder, device, resolved.Source, resolved.Revision);
    }

    /// <summary>Loads the lens a run recorded, and checks it is the same lens (by its hash).</summary>
    public static TunedLens OpenRecorded(TunedLensReference recorded, string modelName, Func<HubClient> hub, Device device)
    {
        var lens = Open(recorded.Source, modelName, hub, device, recorded.Revision ?? "main");
        if (lens.Reference.Sha256 != recorded.Sha256)
        {
            lens.Dispose();
            throw new MlsaeException($"tuned_lens: {recorded} has changed since the run recorded it (sha256 {recorded.Sha256[..Math.Min(12, recorded.Sha256.Length)]}…, now {lens.Reference.Sha256[..12]}…); pass --tuned-lens to choose a lens explicitly");
        }
        return lens;
    }
}

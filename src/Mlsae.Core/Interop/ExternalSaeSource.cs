using Mlsae.Hub;
using static TorchSharp.torch;

namespace Mlsae.Interop;

/// <summary>
/// Turns a value naming external SAEs into a local folder for <see cref="ExternalSaeSet"/>: an
/// existing folder is used as it is; otherwise <c>org/name</c> or <c>org/name/sub/folder</c> is a
/// hub model repo (and a folder in it). Its file listing (the hub's tree API, cached for offline
/// use) says which folders hold an SAE; only the files of those on the wanted block outputs are
/// fetched into the HF cache (a repo such as <c>EleutherAI/sae-pythia-70m-deduped-32k</c> also
/// holds attention and MLP SAEs, which are left on the hub), with sparsify's run
/// <c>config.json</c> for the model name.
/// </summary>
public static class ExternalSaeSource
{
    /// <summary>A resolved value: the local <paramref name="Folder"/> and, from the hub, the commit.</summary>
    public sealed record Resolved(string Folder, string? Revision);

    /// <summary>Resolves <paramref name="spec"/> at <paramref name="revision"/>; <paramref name="hub"/>
    /// is called only when the hub is needed. <paramref name="layers"/> limits the fetch.</summary>
    public static Resolved Resolve(string spec, string revision, Func<HubClient> hub, IReadOnlyCollection<int>? layers = null)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new MlsaeException("external SAE: an empty value (a folder or a hub id org/name[/folder])");
        if (Directory.Exists(spec)) return new Resolved(spec, null);
        if (File.Exists(spec)) throw new MlsaeException($"'{spec}' is a file; pass the folder holding cfg.json and the weights");
        var parts = spec.Split('/');
        string repo = parts.Length >= 2 ? $"{parts[0]}/{parts[1]}" : spec;
        string sub = string.Join('/', parts.Skip(2)).TrimEnd('/');
        if (parts.Length < 2 || !HubClient.LooksLikeRepoId(repo) || spec.StartsWith('.'))
            throw new MlsaeException($"'{IO.ContainedPath.Printable(spec)}' is neither a folder nor a hub id (org/name, or org/name/folder for a folder in the repo)");
        if (sub.Length > 0) HubPaths.RepoFile(sub, $"{repo}: folder");
        var client = hub();
        var prefix = sub.Length == 0 ? "" : sub + "/";
        var all = client.ListFiles(repo, revision, repoType: "model").ToHashSet(StringComparer.Ordinal);
        var files = all.Where(f => f.StartsWith(prefix, StringComparison.Ordinal)).Select(f => f[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
        var folders = IsSae(files, "") ? [""]
            : files.Select(f => f.Split('/')).Where(p => p.Length == 2).Select(p => p[0]).Distinct().Where(d => IsSae(files, d + "/")).Order(StringComparer.Ordinal).ToList();
        if (folders.Count == 0)
            throw new MlsaeException($"{repo}: no SAELens or sparsify SAE in {(sub.Length == 0 ? "the repo's top folder" : $"'{sub}'")} or its subfolders at revision {revision}");
        // sparsify's run config: beside the hookpoint folders, or above a lone one.
        var runConfig = folders is [""] ? ParentFile(sub, SparsifyFormat.RunConfigFile) : prefix + SparsifyFormat.RunConfigFile;
        if (runConfig is not null && all.Contains(runConfig)) client.File(repo, runConfig, revision);
        int fetched = 0;
        foreach (var folder in folders)
        {
            var dir = prefix + (folder.Length == 0 ? "" : folder + "/");
            if (files.Contains(dir[prefix.Length..] + SparsifyFormat.WeightsFile))
            {
                // The folder's name is the hookpoint: judged before anything is fetched.
                var name = (folder.Length > 0 ? folder : sub).Split('/')[^1];
                if (folders.Count > 1 && !Wanted(ExternalSaeFormat.Sparsify, name, layers)) continue;
                client.File(repo, dir + SparsifyFormat.ConfigFile, revision);
                client.File(repo, dir + SparsifyFormat.WeightsFile, revision);
                fetched++;
                continue;
            }
            var config = client.File(repo, dir + SaeLensFormat.ConfigFile, revision)!;
            if (all.Contains(dir + SaeLensFormat.ScalerFile)) client.File(repo, dir + SaeLensFormat.ScalerFile, revision);
            var hook = SaeLensFormat.ReadConfig(Path.GetDirectoryName(config)!).Hookpoint;
            if (folders.Count > 1 && (hook is null || !Wanted(ExternalSaeFormat.SaeLens, hook, layers))) continue;
            client.File(repo, dir + SaeLensFormat.WeightsFile, revision);
            fetched++;
        }
        var commit = client.Cache.Commit(repo, revision, "model");
        if (fetched == 0 || commit is null)
            throw new MlsaeException($"{repo}: none of its SAEs is on {(layers is null ? "a block output" : $"layer {string.Join(", ", layers.Order())}")}");
        var root = sub.Length == 0 ? client.Cache.Snapshot(repo, commit, "model") : client.Cache.SnapshotFile(repo, commit, sub, "model");
        return new Resolved(root, commit);
    }

    /// <summary>Resolves <paramref name="spec"/> and loads its SAEs (<see cref="ExternalSaeSet.Load"/>).</summary>
    public static ExternalSaeSet Open(string spec, string revision, Func<HubClient> hub, IReadOnlyCollection<int>? layers = null, Device? device = null)
    {
        var resolved = Resolve(spec, revision, hub, layers);
        return ExternalSaeSet.Load(resolved.Folder, layers, device, spec, resolved.Revision);
    }

    static bool IsSae(HashSet<string> files, string dir) =>
        files.Contains(dir + SaeLensFormat.ConfigFile) && (files.Contains(dir + SaeLensFormat.WeightsFile) || files.Contains(dir + SparsifyFormat.WeightsFile));

    static bool Wanted(ExternalSaeFormat format, string hookpoint, IReadOnlyCollection<int>? layers) =>
        HookpointNames.TryLayer(format, hookpoint, out int layer, out _) && (layers is null || layers.Contains(layer));

    static string? ParentFile(string sub, string file)
    {
        if (sub.Length == 0) return null;
        int slash = sub.LastIndexOf('/');
        return slash < 0 ? file : $"{sub[..slash]}/{file}";
    }

}

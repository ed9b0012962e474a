namespace Mlsae.Hub;

/// <summary>
/// The standard HuggingFace hub cache layout, shared with Python tools:
/// <c>$HF_HUB_CACHE</c> (default <c>$HF_HOME/hub</c>, default <c>~/.cache/huggingface/hub</c>) /
/// <c>models--org--name</c> / <c>refs/&lt;revision&gt;</c> (a commit hash),
/// <c>blobs/&lt;etag&gt;</c> and <c>snapshots/&lt;commit&gt;/&lt;file&gt;</c> (links to blobs).
/// Every path it returns has been checked by <see cref="HubPaths"/> to lie inside its repo folder.
/// </summary>
public sealed class HubCache(string root)
{
    /// <summary>The cache root.</summary>
    public string Root { get; } = root;

    /// <summary>The cache root the environment selects, as huggingface_hub resolves it.</summary>
    public static HubCache FromEnvironment()
    {
        var hubCache = Environment.GetEnvironmentVariable("HF_HUB_CACHE");
        if (string.IsNullOrEmpty(hubCache))
        {
            var home = Environment.GetEnvironmentVariable("HF_HOME");
            if (string.IsNullOrEmpty(home))
            {
                var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
                home = Path.Combine(string.IsNullOrEmpty(xdg)
                    ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg, "huggingface");
            }
            hubCache = Path.Combine(home, "hub");
        }
        return new HubCache(hubCache);
    }

    /// <summary>The folder of one repository, e.g. <c>models--EleutherAI--pythia-70m</c>.</summary>
    public string RepoFolder(string repoId, string repoType = "model") =>
        Path.GetFullPath(Path.Combine(Root, $"{HubPaths.RepoType(repoType)}s--{HubPaths.RepoId(repoId).Replace("/", "--")}"));

    /// <summary>The commit a revision points to in the cache, or null.</summary>
    public string? Commit(string repoId, string revision, string repoType = "model")
    {
        if (HubPaths.IsCommit(HubPaths.Revision(revision))) return revision;
        var refPath = InRepo(repoId, repoType, $"revision '{revision}'", "refs", revision);
        return File.Exists(refPath) ? HubPaths.Commit(File.ReadAllText(refPath).Trim(), refPath) : null;
    }

    /// <summary>Records that <paramref name="revision"/> points to <paramref name="commit"/>.</summary>
    public void SetRef(string repoId, string revision, string commit, string repoType = "model")
    {
        if (HubPaths.IsCommit(HubPaths.Revision(revision))) return;
        HubPaths.Commit(commit, $"{repoId}: commit of revision '{revision}'");
        IO.AtomicFile.WriteText(InRepo(repoId, repoType, $"revision '{revision}'", "refs", revision), commit);
    }

    /// <summary>The snapshot folder of a commit.</summary>
    public string Snapshot(string repoId, string commit, string repoType = "model") =>
        InRepo(repoId, repoType, "commit", "snapshots", HubPaths.Commit(commit, $"{repoId}: commit"));

    /// <summary>Where <paramref name="file"/> of <paramref name="commit"/> lies in its snapshot.</summary>
    public string SnapshotFile(string repoId, string commit, string file, string repoType = "model") =>
        HubPaths.Inside(RepoFolder(repoId, repoType),
            Path.Combine(Snapshot(repoId, commit, repoType), HubPaths.RepoFile(file, $"{repoId}: file")), $"{repoId}: file '{file}'");

    /// <summary>The marker huggingface_hub leaves when <paramref name="file"/> is absent at <paramref name="commit"/>.</summary>
    public string NoExistMarker(string repoId, string commit, string file, string repoType = "model") =>
        InRepo(repoId, repoType, $"file '{file}'", ".no_exist", HubPaths.Commit(commit, $"{repoId}: commit"), HubPaths.RepoFile(file, $"{repoId}: file"));

    /// <summary>The blob path of an etag (a 40- or 64-hex digest).</summary>
    public string Blob(string repoId, string etag, string repoType = "model") =>
        InRepo(repoId, repoType, "blob", "blobs", HubPaths.Digest(etag, $"{repoId}: ETag"));

    /// <summary>Where the blob of an etag is downloaded to before it is complete (and resumed from).</summary>
    public string IncompleteBlob(string repoId, string etag, string repoType = "model") =>
        InRepo(repoId, repoType, "blob", "blobs", HubPaths.Digest(etag, $"{repoId}: ETag") + ".incomplete");

    /// <summary>Where the file listing of <paramref name="revision"/> is kept (an mlsae addition to the layout).</summary>
    public string Listing(string repoId, string revision, string repoType = "dataset") =>
        InRepo(repoId, repoType, $"revision '{revision}'", "mlsae-listings", Uri.EscapeDataString(HubPaths.Revision(revision)) + ".json");

    /// <summary>Makes <c>snapshots/commit/file</c> point at the blob: a relative symlink as
    /// huggingface_hub makes, or a copy where links are not allowed.</summary>
    public string Link(string repoId, string commit, string file, string etag, string repoType = "model")
    {
        var target = SnapshotFile(repoId, commit, file, repoType);
        var blob = Blob(repoId, etag, repoType);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        // Checked again once its folders exist: one of them may have been a link made meanwhile.
        HubPaths.Inside(RepoFolder(repoId, repoType), target, $"{repoId}: file '{file}'");
        if (File.Exists(target) || new FileInfo(target).LinkTarget is not null) File.Delete(target);
        try { File.CreateSymbolicLink(target, Path.GetRelativePath(Path.GetDirectoryName(target)!, blob)); }
        catch (IOException) { File.Copy(blob, target); }
        catch (UnauthorizedAccessException) { File.Copy(blob, target); }
        return target;
    }

    /// <summary>Joins <paramref name="parts"/> onto the repo folder and checks the result stays inside it.</summary>
    string InRepo(string repoId, string repoType, string what, params string[] parts)
    {
        var folder = RepoFolder(repoId, repoType);
        return HubPaths.Inside(folder, Path.Combine([folder, .. parts]), $"{repoId}: {what}");
    }
}

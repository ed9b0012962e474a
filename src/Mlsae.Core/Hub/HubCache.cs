namespace Mlsae.Hub;

/// <summary>
/// The standard HuggingFace hub cache layout, shared with Python tools:
/// <c>$HF_HUB_CACHE</c> (default <c>$HF_HOME/hub</c>, default <c>~/.cache/huggingface/hub</c>) /
/// <c>models--org--name</c> / <c>refs/&lt;revision&gt;</c> (a commit hash),
/// <c>blobs/&lt;etag&gt;</c> and <c>snapshots/&lt;commit&gt;/&lt;file&gt;</c> (links to blobs).
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
        Path.Combine(Root, $"{repoType}s--{repoId.Replace("/", "--")}");

    /// <summary>The commit a revision points to in the cache, or null.</summary>
    public string? Commit(string repoId, string revision, string repoType = "model")
    {
        if (IsCommitHash(revision)) return revision;
        var refPath = Path.Combine(RepoFolder(repoId, repoType), "refs", revision);
        return File.Exists(refPath) ? File.ReadAllText(refPath).Trim() : null;
    }

    /// <summary>Records that <paramref name="revision"/> points to <paramref name="commit"/>.</summary>
    public void SetRef(string repoId, string revision, string commit, string repoType = "model")
    {
        if (IsCommitHash(revision)) return;
        var refPath = Path.Combine(RepoFolder(repoId, repoType), "refs", revision);
        IO.AtomicFile.WriteText(refPath, commit);
    }

    /// <summary>The snapshot folder of a commit.</summary>
    public string Snapshot(string repoId, string commit, string repoType = "model") =>
        Path.Combine(RepoFolder(repoId, repoType), "snapshots", commit);

    /// <summary>The blob path of an etag.</summary>
    public string Blob(string repoId, string etag, string repoType = "model") =>
        Path.Combine(RepoFolder(repoId, repoType), "blobs", etag);

    /// <summary>Makes <c>snapshots/commit/file</c> point at the blob: a relative symlink as
    /// huggingface_hub makes, or a copy where links are not allowed.</summary>
    public string Link(string repoId, string commit, string file, string etag, string repoType = "model")
    {
        var target = Path.Combine(Snapshot(repoId, commit, repoType), file);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (File.Exists(target) || new FileInfo(target).LinkTarget is not null) File.Delete(target);
        var blob = Blob(repoId, etag, repoType);
        try { File.CreateSymbolicLink(target, Path.GetRelativePath(Path.GetDirectoryName(target)!, blob)); }
        catch (IOException) { File.Copy(blob, target); }
        catch (UnauthorizedAccessException) { File.Copy(blob, target); }
        return target;
    }

    static bool IsCommitHash(string s) => s.Length == 40 && s.All(Uri.IsHexDigit);
}

namespace Mlsae.Hub;

/// <summary>
/// Resolves a <c>--dists</c> or <c>--examples</c> value: an existing local file wins; otherwise an
/// <c>org/name</c> hub id names a dataset repo (such as <c>mlsae push</c> writes) whose file is
/// downloaded through the hub cache, with its path checks, and its local path returned.
/// </summary>
public static class DatasetFile
{
    /// <summary>The local path of <paramref name="value"/>: the file itself, or <paramref name="file"/>
    /// of the dataset repo it names (with <paramref name="beside"/> fetched too when the repo has them).
    /// <paramref name="flag"/> names the option in errors; <paramref name="hub"/> is called only when the hub is needed.</summary>
    public static string Resolve(string value, string file, string flag, Func<HubClient> hub, string revision = "main", params string[] beside)
    {
        if (File.Exists(value)) return value;
        if (Directory.Exists(value)) throw new MlsaeException($"{flag}: '{IO.ContainedPath.Printable(value)}' is a folder; pass the {file} file or a dataset hub id");
        if (string.Equals(Path.GetExtension(value), Path.GetExtension(file), StringComparison.OrdinalIgnoreCase))
            throw new MlsaeException($"{flag}: {IO.ContainedPath.Printable(value)} does not exist");
        if (!HubClient.LooksLikeRepoId(value) || value.StartsWith('.') || !value.Contains('/'))
            throw new MlsaeException($"{flag}: '{IO.ContainedPath.Printable(value)}' is neither a file nor a dataset hub id (org/name)");
        var client = hub();
        var path = client.File(value, file, revision, repoType: "dataset")!;
        foreach (var extra in beside) client.File(value, extra, revision, required: false, repoType: "dataset");
        return path;
    }
}

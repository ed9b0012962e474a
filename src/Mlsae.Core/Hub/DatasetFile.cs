namespace Mlsae.Hub;

/// <summary>
/// Resolves a <c>--dists</c> or <c>--examples</c> value: an existing local file wins; otherwise an
/// <c>org/name</c> hub id names a dataset repo whose file is downloaded through the hub cache, with
/// its path checks, and its local path returned. A repo without this tool's file (one that the
/// reference's <c>push_to_hub</c> wrote) is read from its Parquet train split instead, which
/// the caller's converter turns into the file once per commit, beside the repo's cache.
/// </summary>
public static class DatasetFile
{
    /// <summary>Writes the tool's file at <paramref name="target"/> from the Parquet <paramref name="shards"/> of <paramref name="repoId"/>.</summary>
    public delegate void ParquetConverter(IReadOnlyList<string> shards, string target, string repoId);

    /// <summary>The local path of <paramref name="value"/>: the file itself, <paramref name="file"/> of the
    /// dataset repo it names, or (with <paramref name="fromParquet"/>, when the repo lacks that file) the
    /// file converted from the repo's <c>data/train-*.parquet</c>. <paramref name="flag"/> names the option
    /// in errors; <paramref name="hub"/> is called only when the hub is needed.</summary>
    public static string Resolve(string value, string file, string flag, Func<HubClient> hub, string revision = "main", ParquetConverter? fromParquet = null)
    {
        if (File.Exists(value)) return value;
        if (Directory.Exists(value)) throw new MlsaeException($"{flag}: '{IO.ContainedPath.Printable(value)}' is a folder; pass the {file} file or a dataset hub id");
        if (string.Equals(Path.GetExtension(value), Path.GetExtension(file), StringComparison.OrdinalIgnoreCase))
            throw new MlsaeException($"{flag}: {IO.ContainedPath.Printable(value)} does not exist");
        if (!HubClient.LooksLikeRepoId(value) || value.StartsWith('.') || !value.Contains('/'))
            throw new MlsaeException($"{flag}: '{IO.ContainedPath.Printable(value)}' is neither a file nor a dataset hub id (org/name)");
        var client = hub();
        var path = client.File(value, file, revision, required: fromParquet is null, repoType: "dataset");
        if (path is not null) return path;

        var shards = TrainShards(client, value, revision);
        if (shards.Count == 0) throw new MlsaeException($"{flag}: dataset {value} holds neither {file} nor a Parquet train split (data/train-*.parquet)");
        var local = shards.Select(s => client.File(value, s, revision, repoType: "dataset")!).ToList();
        var commit = client.Cache.Commit(value, revision, "dataset") ?? revision;
        var target = Path.Combine(client.Cache.RepoFolder(value, "dataset"), "mlsae-converted", commit, file);
        if (!File.Exists(target)) fromParquet!(local, target, value);
        return target;
    }

    /// <summary>The train split's shards: the single one <c>push_to_hub</c> names, else every
    /// <c>data/train-*.parquet</c> of the repo's file listing (older <c>datasets</c> add a fingerprint to the name).</summary>
    static IReadOnlyList<string> TrainShards(HubClient client, string repoId, string revision)
    {
        if (client.File(repoId, DatasetParquet.TrainFile, revision, required: false, repoType: "dataset") is not null) return [DatasetParquet.TrainFile];
        return client.ListFiles(repoId, revision, "dataset")
            .Where(f => f.StartsWith("data/train-", StringComparison.Ordinal) && f.EndsWith(".parquet", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
    }
}

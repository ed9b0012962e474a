namespace Mlsae.Data;

/// <summary>
/// The files of a source in stream order, by name, each made local only when the stream reaches
/// it (a hub dataset's files are downloaded then), so a resumed stream that starts at file i never
/// fetches or opens files 0..i−1.
/// </summary>
public sealed class DataFiles(IReadOnlyList<string> names, Func<string, string> local)
{
    /// <summary>Local paths, or repo paths of a hub dataset, in order.</summary>
    public IReadOnlyList<string> Names { get; } = names;

    /// <summary>The local path of file <paramref name="index"/>.</summary>
    public string Local(int index) => local(Names[index]);

    /// <summary>Local files used as they are.</summary>
    public static DataFiles OfLocal(IReadOnlyList<string> paths) => new(paths, p => p);
}

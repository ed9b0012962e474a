using Mlsae.Hub;

namespace Mlsae.Data;

/// <summary>
/// What <c>--data</c> names: a local file, folder or glob when one exists, otherwise a hub dataset
/// id (<c>org/name</c>) whose split is streamed through the hub cache.
/// </summary>
public sealed record DataSource(string Data, string Split = "train", string Revision = "main")
{
    /// <summary>Whether <see cref="Data"/> is a local path (a file, folder or glob that exists).</summary>
    public bool IsLocal
    {
        get
        {
            if (File.Exists(Data) || Directory.Exists(Data)) return true;
            if (Path.GetFileName(Data).IndexOfAny(['*', '?']) < 0) return false;
            var dir = Path.GetDirectoryName(Data);
            return Directory.Exists(string.IsNullOrEmpty(dir) ? "." : dir);
        }
    }

    /// <summary>The data files, local or downloaded lazily from the hub.</summary>
    public IEnumerable<string> Files(Func<HubClient> hub)
    {
        if (IsLocal) return TextDocuments.Files(Data);
        if (!HubClient.LooksLikeRepoId(Data) || Data.StartsWith('.') || !Data.Contains('/'))
            throw new MlsaeException($"--data: '{Data}' is not a file, folder or glob that exists, nor a hub dataset id (org/name)");
        return HubDataset.Files(hub(), Data, Split, Revision);
    }

    /// <summary>Streams the source's documents.</summary>
    public IEnumerable<string> Documents(Func<HubClient> hub, DocumentOptions? options = null, DataReport? report = null) =>
        TextDocuments.Read(Files(hub), options, report);
}

using Mlsae.Hub;

namespace Mlsae.Data;

/// <summary>
/// What <c>--data</c> names: <c>embedded</c> / <c>embedded:heldout</c> (the project's synthetic
/// corpus), a local file, folder or glob when one exists, otherwise a hub dataset id
/// (<c>org/name</c>) whose split is streamed through the hub cache.
/// </summary>
public sealed record DataSource(string Data, string Split = "train", string Revision = "main")
{
    /// <summary>The name of the synthetic corpus's training stream.</summary>
    public const string Embedded = "embedded";
    /// <summary>The name of its held-out stream.</summary>
    public const string EmbeddedHeldOut = "embedded:heldout";

    /// <summary>Whether this is the synthetic corpus.</summary>
    public bool IsEmbedded => Data is Embedded or EmbeddedHeldOut;

    /// <summary>Whether <see cref="Data"/> is a local path (a file, folder or glob that exists).</summary>
    public bool IsLocal
    {
        get
        {
            if (IsEmbedded) return false;
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
    public IEnumerable<string> Documents(Func<HubClient> hub, DocumentOptions? options = null, DataReport? report = null)
    {
        if (!IsEmbedded) return TextDocuments.Read(Files(hub), options, report);
        var split = Data == EmbeddedHeldOut || Split is "validation" or "test" ? Mlsae.Embedded.SyntheticCorpus.Split.HeldOut : Mlsae.Embedded.SyntheticCorpus.Split.Train;
        return Counted(new Mlsae.Embedded.SyntheticCorpus().Documents(split), report);
    }

    static IEnumerable<string> Counted(IEnumerable<string> documents, DataReport? report)
    {
        if (report is not null) report.Files++;
        foreach (var d in documents)
        {
            if (report is not null) report.Documents++;
            yield return d;
        }
    }
}

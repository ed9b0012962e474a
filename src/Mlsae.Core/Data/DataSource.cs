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

    /// <summary>The data files, local or downloaded from the hub when the stream reaches them.</summary>
    public DataFiles Files(Func<HubClient> hub)
    {
        if (IsLocal) return DataFiles.OfLocal(TextDocuments.Files(Data));
        if (!HubClient.LooksLikeRepoId(Data) || Data.StartsWith('.') || !Data.Contains('/'))
            throw new MlsaeException($"--data: '{Data}' is not a file, folder or glob that exists, nor a hub dataset id (org/name)");
        return HubDataset.Files(hub(), Data, Split, Revision);
    }

    /// <summary>Streams the texts of the source's documents.</summary>
    public IEnumerable<string> Documents(Func<HubClient> hub, DocumentOptions? options = null, DataReport? report = null) =>
        Documents(hub, options, report, default).Select(d => d.Text);

    /// <summary>Streams the source's documents from <paramref name="start"/>.</summary>
    public IEnumerable<Document> Documents(Func<HubClient> hub, DocumentOptions? options, DataReport? report, DocumentCursor start)
    {
        if (!IsEmbedded) return TextDocuments.Read(Files(hub), options, report, start);
        var split = Data == EmbeddedHeldOut || Split is "validation" or "test" ? Mlsae.Embedded.SyntheticCorpus.Split.HeldOut : Mlsae.Embedded.SyntheticCorpus.Split.Train;
        return Synthetic(split, start.Offset, report);
    }

    /// <summary>The synthetic corpus is addressable by document index, so its cursor is that index.</summary>
    static IEnumerable<Document> Synthetic(Mlsae.Embedded.SyntheticCorpus.Split split, long start, DataReport? report)
    {
        if (report is not null) report.Files++;
        long index = start;
        foreach (var d in new Mlsae.Embedded.SyntheticCorpus().Documents(split, start))
        {
            if (report is not null) report.Documents++;
            yield return new Document(d, new DocumentCursor { Offset = index++ });
        }
    }
}

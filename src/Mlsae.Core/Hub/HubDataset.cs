using System.Text.RegularExpressions;
using Mlsae.Data;

namespace Mlsae.Hub;

/// <summary>
/// A hub dataset as text files: its data files are listed through the hub API, the split's files
/// chosen by the naming rules HF <c>datasets</c> uses (a directory or file name that is the split's
/// keyword, delimited by <c>-._ </c> or digits), and each is downloaded into the hub cache (with
/// resume) only when the stream reaches it.
/// </summary>
public static partial class HubDataset
{
    static readonly Dictionary<string, string[]> Keywords = new()
    {
        ["train"] = ["train", "training"],
        ["validation"] = ["validation", "valid", "dev", "val"],
        ["test"] = ["test", "testing", "eval", "evaluation"],
    };

    /// <summary>The files of <paramref name="split"/> among a repo's <paramref name="paths"/> (supported
    /// data files only, in order). When no file names any split, every file belongs to <c>train</c>.</summary>
    public static List<string> SplitFiles(IEnumerable<string> paths, string split)
    {
        var data = paths.Where(TextDocuments.IsSupported).Order(StringComparer.Ordinal).ToList();
        var keywords = Keywords.TryGetValue(split, out var k) ? k : [split];
        var chosen = data.Where(p => keywords.Any(word => Names(p, word))).ToList();
        if (chosen.Count == 0 && split == "train" && !data.Any(p => Keywords.Values.SelectMany(w => w).Any(word => Names(p, word))))
            return data;
        return chosen;
    }

    static bool Names(string path, string word)
    {
        var parts = path.Split('/');
        for (int i = 0; i < parts.Length - 1; i++)
            if (Delimited(parts[i], word, dir: true)) return true;
        return Delimited(parts[^1], word, dir: false);
    }

    static bool Delimited(string name, string word, bool dir)
    {
        var pattern = dir ? $"^{Regex.Escape(word)}([-._ 0-9].*)?$" : $"(^|[-._ 0-9]){Regex.Escape(word)}([-._ 0-9]|$)";
        return Regex.IsMatch(name, pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    /// <summary>The split's files by repo path, each downloaded when the stream reaches it.</summary>
    public static DataFiles Files(HubClient hub, string repoId, string split, string revision = "main")
    {
        var all = hub.ListFiles(repoId, revision, "dataset");
        var files = SplitFiles(all, split);
        if (files.Count == 0)
            throw new MlsaeException($"--data: the hub dataset {repoId} has no {string.Join(", ", TextDocuments.Extensions)} files for split '{split}' ({all.Count} files listed)");
        return new DataFiles(files, file => hub.File(repoId, file, revision, repoType: "dataset")!);
    }
}

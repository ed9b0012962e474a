namespace Mlsae.Data;

/// <summary>
/// The data files below a folder, following links (a data folder is often a farm of links into
/// shared storage) but reading no real file twice and never walking a directory it has already
/// walked, so a link loop or two links to one file cannot repeat data.
/// </summary>
static class FolderFiles
{
    /// <summary>Files below <paramref name="root"/> that <paramref name="keep"/> accepts, in ordinal order of their paths.</summary>
    public static List<string> Find(string root, Func<string, bool> keep)
    {
        var seenDirectories = new HashSet<string>(StringComparer.Ordinal);
        var seenFiles = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<string>();
        void Walk(string dir)
        {
            if (!seenDirectories.Add(RealPath(dir))) return;
            foreach (var entry in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal))
            {
                if (Directory.Exists(entry)) Walk(entry);
                else if (File.Exists(entry) && keep(entry) && seenFiles.Add(RealPath(entry))) found.Add(entry);
            }
        }
        Walk(root);
        return found.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The path with every link along it resolved (what <c>realpath</c> gives), as the identity of a file or folder.</summary>
    internal static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            for (int hops = 0; hops < 40; hops++)
            {
                FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
                if (info.LinkTarget is not string target) break;
                current = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(Path.GetDirectoryName(current)!, target));
                if (hops == 39) throw new MlsaeException($"--data: too many levels of links at '{path}'");
            }
        }
        return current;
    }
}

namespace Mlsae.IO;

/// <summary>
/// Joins names that come from outside (a server's headers, an index file, a file listing) onto a
/// folder so that the result provably stays inside it: a full-path prefix check after
/// normalization, and optionally a walk that refuses existing links which lead out.
/// </summary>
public static class ContainedPath
{
    // Link chains deeper than this are refused rather than followed (a loop, or a maze meant to hide an exit).
    const int MaxLinkDepth = 8;

    /// <summary>
    /// The full path of <paramref name="relative"/> under <paramref name="root"/>. Throws a
    /// <see cref="MlsaeException"/> starting with <paramref name="what"/> when the name is rooted
    /// (absolute, a drive) or when, after normalization, it lies outside <paramref name="root"/>.
    /// Lexical only: links are not looked at (see <see cref="CheckLinks"/>).
    /// </summary>
    public static string Combine(string root, string relative, string what)
    {
        // Path.GetFullPath throws ArgumentException on a NUL; a name from outside gets a message instead.
        if (relative.Contains('\0'))
            throw new MlsaeException($"{what} '{Printable(relative)}' contains a NUL character");
        if (Path.IsPathRooted(relative))
            throw new MlsaeException($"{what} '{Printable(relative)}' is an absolute path; it must be relative to {root}");
        var full = Path.GetFullPath(Path.Combine(Path.GetFullPath(root), relative));
        if (!IsInside(root, full))
            throw new MlsaeException($"{what} '{Printable(relative)}' leads outside {root}");
        return full;
    }

    /// <summary>Whether <paramref name="path"/>, normalized, is <paramref name="root"/> or lies below it.</summary>
    public static bool IsInside(string root, string path)
    {
        var rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        // The separator matters: /cache/models--a must not admit /cache/models--ab.
        return string.Equals(full, rootFull, NameComparison)
            || full.StartsWith(rootFull + Path.DirectorySeparatorChar, NameComparison);
    }

    // Windows and macOS file systems ignore case by default; a case-only difference is the same file there.
    static readonly StringComparison NameComparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>
    /// Throws a <see cref="MlsaeException"/> starting with <paramref name="what"/> unless
    /// <paramref name="path"/> lies inside <paramref name="root"/> and no existing entry from just
    /// below <paramref name="root"/> down to <paramref name="path"/> itself is a link whose final
    /// target lies outside <paramref name="root"/>. <paramref name="root"/> itself may be a link
    /// (a cache moved to another disk).
    /// </summary>
    public static void CheckLinks(string root, string path, string what) => CheckLinksFrom(root, path, what, 0);

    static void CheckLinksFrom(string root, string path, string what, int depth)
    {
        var rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var full = Path.GetFullPath(path);
        if (!IsInside(rootFull, full))
            throw new MlsaeException($"{what} '{Printable(path)}' leads outside {root}");
        if (depth > MaxLinkDepth)
            throw new MlsaeException($"{what} '{Printable(path)}' passes through more than {MaxLinkDepth} links");
        var current = rootFull;
        foreach (var part in Path.GetRelativePath(rootFull, full).Split(Path.DirectorySeparatorChar))
        {
            if (part == ".") break;   // path is root itself
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (info.LinkTarget is null)
            {
                if (!info.Exists) return;   // nothing below a missing entry exists either
                continue;
            }
            FileSystemInfo? target;
            try { target = info.ResolveLinkTarget(returnFinalTarget: true); }
            catch (IOException e) { throw MlsaeException.From($"{what}: the link {current} cannot be resolved", e); }
            if (target is null) continue;
            if (!IsInside(rootFull, target.FullName))
                throw new MlsaeException($"{what}: the existing link {current} points outside {root} (to {target.FullName})");
            // The target's own folders may be links too; check them the same way.
            CheckLinksFrom(rootFull, target.FullName, what, depth + 1);
        }
    }

    /// <summary>A name from outside, fit for a one-line message: control characters escaped, long names cut.</summary>
    public static string Printable(string name)
    {
        var escaped = string.Concat(name.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return escaped.Length <= 160 ? escaped : escaped[..160] + "…";
    }
}

using System.Text.RegularExpressions;
using Mlsae.IO;

namespace Mlsae.Hub;

/// <summary>
/// The rules for every string that the hub cache joins into a path: commit hashes, ETags,
/// revisions, repo ids and repo file paths, whether they come from the user, from the hub's
/// headers and listings, or from a repo's own files. A hostile endpoint (<c>HF_ENDPOINT</c>, a
/// mirror, a proxy) or hostile repo content must not be able to name a path outside the repo's
/// cache folder, so each value is checked against its shape here, and each final path against
/// the repo folder (<see cref="Inside"/>), before anything is created, deleted, renamed or linked.
/// Violations are one-line <see cref="MlsaeException"/>s naming the value and where it came from.
/// </summary>
public static partial class HubPaths
{
    /// <summary>The repo types the hub serves, each the prefix of its cache folders (<c>models--…</c>).</summary>
    public static readonly IReadOnlyList<string> RepoTypes = ["model", "dataset", "space"];

    /// <summary>Whether <paramref name="s"/> is a commit hash: exactly 40 hex digits.</summary>
    public static bool IsCommit(string s) => s.Length == 40 && s.All(char.IsAsciiHexDigit);

    /// <summary>Returns <paramref name="value"/> when it is a commit hash, else throws naming <paramref name="what"/>
    /// (e.g. "the X-Repo-Commit header").</summary>
    public static string Commit(string value, string what) => IsCommit(value) ? value
        : throw new MlsaeException($"{what}: '{ContainedPath.Printable(value)}' is not a commit hash (40 hex digits)");

    /// <summary>
    /// The digest an ETag header carries: quotes and a weak <c>W/</c> prefix removed, then exactly
    /// 40 (git blob sha1) or 64 (LFS sha256) hex digits; anything else throws naming <paramref name="what"/>.
    /// </summary>
    public static string Etag(string header, string what)
    {
        var tag = header.Trim();
        if (tag.StartsWith("W/", StringComparison.Ordinal)) tag = tag[2..];
        if (tag.Length >= 2 && tag[0] == '"' && tag[^1] == '"') tag = tag[1..^1];
        return Digest(tag, what);
    }

    /// <summary>Returns <paramref name="value"/> when it is a 40- or 64-hex digest (a blob name), else throws.</summary>
    public static string Digest(string value, string what) =>
        value.Length is 40 or 64 && value.All(char.IsAsciiHexDigit) ? value
            : throw new MlsaeException($"{what}: '{ContainedPath.Printable(value)}' is not a hex digest (40 or 64 hex digits)");

    /// <summary>
    /// Returns <paramref name="revision"/> when it is a commit hash or a git ref name (as
    /// <c>git check-ref-format</c> allows, e.g. <c>main</c>, <c>v1.0</c>, <c>refs/pr/1</c>): no
    /// <c>..</c>, no leading, trailing or doubled <c>/</c>, no segment starting with <c>.</c> or
    /// ending in <c>.lock</c>, no <c>@{</c>, no backslash, no control or space characters and none
    /// of <c>~^:?*[</c>. Otherwise throws.
    /// </summary>
    public static string Revision(string revision)
    {
        if (IsCommit(revision)) return revision;
        var problem = RevisionProblem(revision);
        return problem is null ? revision
            : throw new MlsaeException($"revision '{ContainedPath.Printable(revision)}' is not a git ref name or commit ({problem})");
    }

    static string? RevisionProblem(string s)
    {
        if (s.Length == 0) return "empty";
        if (s.Length > 255) return "longer than 255 characters";
        if (s.Any(c => char.IsControl(c) || c == ' ')) return "control or space character";
        if (s.Contains('\\')) return "backslash";
        if (s.IndexOfAny(['~', '^', ':', '?', '*', '[']) >= 0) return "one of ~^:?*[";
        if (s.Contains("..", StringComparison.Ordinal)) return "'..'";
        if (s.Contains("@{", StringComparison.Ordinal) || s == "@") return "'@{' or '@'";
        if (s.StartsWith('/')) return "absolute";
        var segments = s.Split('/');
        if (segments.Any(p => p.Length == 0)) return "empty segment";
        if (segments.Any(p => p.StartsWith('.'))) return "segment starting with '.'";
        if (segments.Any(p => p.EndsWith(".lock", StringComparison.Ordinal))) return "segment ending in '.lock'";
        if (s.EndsWith('.')) return "ends with '.'";
        return null;
    }

    /// <summary>
    /// Returns <paramref name="file"/> when it is a safe path of a file inside a repo: relative
    /// (no leading <c>/</c>, no drive), <c>/</c>-separated with no empty, <c>.</c> or <c>..</c>
    /// segment, no backslash, no NUL or other control characters. Otherwise throws naming
    /// <paramref name="what"/> (e.g. "model.safetensors.index.json: shard").
    /// </summary>
    public static string RepoFile(string file, string what)
    {
        var problem = RepoFileProblem(file);
        return problem is null ? file
            : throw new MlsaeException($"{what} '{ContainedPath.Printable(file)}' is not a safe repo file path ({problem})");
    }

    static string? RepoFileProblem(string s)
    {
        if (s.Length == 0) return "empty";
        if (s.Length > 4096) return "longer than 4096 characters";
        if (s.Any(char.IsControl)) return "control character";
        if (s.Contains('\\')) return "backslash";
        if (s.StartsWith('/') || Path.IsPathRooted(s)) return "absolute";
        var segments = s.Split('/');
        if (segments.Any(p => p.Length == 0)) return "empty segment";
        if (segments.Any(p => p is "." or "..")) return "'.' or '..' segment";
        return null;
    }

    /// <summary>
    /// Returns <paramref name="repoId"/> when it is a hub repo id, <c>name</c> or <c>org/name</c>
    /// (letters, digits, <c>-_.</c>, each part starting with a letter or digit, no <c>--</c> or
    /// <c>..</c> as the hub itself forbids), at most 96 characters; otherwise throws.
    /// </summary>
    public static string RepoId(string repoId) =>
        repoId.Length <= 96 && RepoIdPattern().IsMatch(repoId) && !repoId.Contains("--", StringComparison.Ordinal)
            && !repoId.Contains("..", StringComparison.Ordinal) ? repoId
            : throw new MlsaeException($"repo id '{ContainedPath.Printable(repoId)}' is not of the form org/name");

    /// <summary>Returns <paramref name="repoType"/> when it is one of <see cref="RepoTypes"/>, else throws.</summary>
    public static string RepoType(string repoType) => RepoTypes.Contains(repoType) ? repoType
        : throw new MlsaeException($"repo type '{ContainedPath.Printable(repoType)}' is not one of {string.Join(", ", RepoTypes)}");

    /// <summary>
    /// The full path <paramref name="path"/> after checking that it lies inside
    /// <paramref name="repoFolder"/> and that no existing link on the way leads out of it (snapshot
    /// files are links into the same repo folder's <c>blobs/</c>, so they pass).
    /// </summary>
    public static string Inside(string repoFolder, string path, string what)
    {
        ContainedPath.CheckLinks(repoFolder, path, what);
        return Path.GetFullPath(path);
    }

    [GeneratedRegex(@"^([A-Za-z0-9][A-Za-z0-9_.\-]*/)?[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    internal static partial Regex RepoIdPattern();
}

using System.Security.Cryptography;
using Mlsae.Hub;
using Xunit;

namespace Mlsae.Tests.Hub;

/// <summary>
/// A temp folder holding a hub cache (<c>cache/</c>) and, beside it, an <c>outside/</c> folder with
/// sentinel files where hostile names would land. <see cref="AssertOutsideUntouched"/> proves that
/// nothing next to the cache was created, deleted, changed or linked.
/// </summary>
public sealed class CacheSandbox
{
    readonly Dictionary<string, string> before;

    /// <summary>The parent of the cache.</summary>
    public string Root { get; } = Fixtures.TempDir();
    /// <summary>The cache root, <c>Root/cache</c>.</summary>
    public string CacheRoot => Path.Combine(Root, "cache");
    /// <summary>The cache.</summary>
    public HubCache Cache { get; }
    /// <summary>A folder beside the cache, <c>Root/outside</c>, holding <c>config.json</c> and <c>ref</c>.</summary>
    public string Outside => Path.Combine(Root, "outside");

    public CacheSandbox()
    {
        Directory.CreateDirectory(CacheRoot);
        Directory.CreateDirectory(Outside);
        // Named like files a download writes, so that an escaped path would overwrite or delete them;
        // "ref" holds what a planted ref file would hold to redirect loading out of the cache.
        File.WriteAllText(Path.Combine(Outside, "config.json"), "sentinel");
        File.WriteAllText(Path.Combine(Outside, "ref"), "../../../outside");
        Cache = new HubCache(CacheRoot);
        before = Listing();
    }

    /// <summary>Asserts that every entry beside the cache is as it was when the sandbox was made.</summary>
    public void AssertOutsideUntouched() => Assert.Equal(before, Listing());

    /// <summary>Every entry under <see cref="Root"/> but outside the cache: kind, link target or content
    /// hash and write time (an atomic rewrite with the same bytes still shows).</summary>
    Dictionary<string, string> Listing()
    {
        var result = new Dictionary<string, string>();
        foreach (var entry in new DirectoryInfo(Root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (entry.FullName == CacheRoot || entry.FullName.StartsWith(CacheRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal)) continue;
            result[Path.GetRelativePath(Root, entry.FullName)] = entry.LinkTarget is { } link ? "link " + link
                : entry is DirectoryInfo ? "dir"
                : $"file {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry.FullName)))} {entry.LastWriteTimeUtc.Ticks}";
        }
        return result;
    }
}

namespace Mlsae.Bench;

/// <summary>
/// OpenBLAS for the Python reference, set up privately: Debian's python3-torch links
/// <c>libblas.so.3</c>, which resolves to the netlib reference BLAS (~25× slower) unless OpenBLAS is
/// installed. The bench fetches Debian's <c>libopenblas0-pthread</c> with <c>apt-get download</c>,
/// unpacks it with <c>dpkg -x</c> into a cache folder and puts its <c>libblas.so.3</c> first on the
/// reference's <c>LD_LIBRARY_PATH</c>. Nothing is installed system-wide.
/// </summary>
public static class PrivateOpenBlas
{
    /// <summary>The Debian package: OpenBLAS with its own thread pool (sized by <c>OPENBLAS_NUM_THREADS</c>).</summary>
    public const string Package = "libopenblas0-pthread";

    /// <summary><c>$XDG_CACHE_HOME/mlsae-bench/openblas</c>, else <c>~/.cache/mlsae-bench/openblas</c>.</summary>
    public static string DefaultCache
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var root = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
                : xdg;
            return Path.Combine(root, "mlsae-bench", "openblas");
        }
    }

    /// <summary>The folder holding OpenBLAS's <c>libblas.so.3</c> under <paramref name="cache"/>,
    /// fetched and unpacked there first when missing; or null and why not.</summary>
    public static (string? LibraryDir, string? Reason) Ensure(string cache)
    {
        if (Find(cache) is string found) return (found, null);
        var staging = $"{cache}.staging-{Environment.ProcessId}";
        try
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            Directory.CreateDirectory(staging);
            Console.Error.WriteLine($"reference: fetching {Package} into {cache} (apt-get download, dpkg -x; nothing installed)");
            var download = ChildProcess.Exec("apt-get", ["download", Package], staging);
            if (download.ExitCode != 0)
                return (null, $"apt-get download {Package} failed: {ChildProcess.LastLine(download.Stderr, $"exit {download.ExitCode}")}");
            var deb = Directory.GetFiles(staging, "*.deb").FirstOrDefault();
            if (deb is null) return (null, $"apt-get download {Package} left no .deb in {staging}");
            var root = Path.Combine(staging, "root");
            var unpack = ChildProcess.Exec("dpkg", ["-x", deb, root]);
            if (unpack.ExitCode != 0)
                return (null, $"dpkg -x {deb} failed: {ChildProcess.LastLine(unpack.Stderr, $"exit {unpack.ExitCode}")}");
            if (Find(root) is null) return (null, $"{Package} holds no OpenBLAS libblas.so.3 (looked under {root})");
            Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
            if (!Directory.Exists(cache)) Directory.Move(root, cache);   // another bench may have won the race: its copy is as good
            return Find(cache) is string dir ? (dir, null) : (null, $"no OpenBLAS libblas.so.3 under {cache}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot set up OpenBLAS in {cache}: {e.Message}");
        }
        finally
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Console.Error.WriteLine($"reference: could not remove {staging}: {e.Message}"); }
        }
    }

    /// <summary>The folder of an OpenBLAS <c>libblas.so.3</c> under <paramref name="root"/>, or null.</summary>
    public static string? Find(string root) => !Directory.Exists(root)
        ? null
        : Directory.EnumerateFiles(root, "libblas.so.3", SearchOption.AllDirectories)
            .Where(p => p.Contains("openblas", StringComparison.Ordinal))
            .Select(Path.GetDirectoryName).FirstOrDefault();
}

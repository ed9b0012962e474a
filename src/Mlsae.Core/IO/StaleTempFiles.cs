namespace Mlsae.IO;

/// <summary>
/// Temp files named after the process that writes them (<c>&lt;target&gt;.tmp-&lt;pid&gt;-&lt;guid&gt;</c>), so that
/// the next writer of the same target can delete the ones a killed process left (with their
/// SQLite journals) without touching those of a process still writing.
/// </summary>
public static class StaleTempFiles
{
    /// <summary>A fresh temp path beside <paramref name="target"/> (a full path), owned by this process.</summary>
    public static string For(string target) => $"{target}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>Deletes the temp files beside <paramref name="target"/> whose process is gone.</summary>
    public static void Clean(string target)
    {
        var dir = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(dir)) return;
        var prefix = Path.GetFileName(target) + ".tmp-";
        foreach (var file in Directory.EnumerateFiles(dir, prefix + "*"))
        {
            var pid = Path.GetFileName(file)[prefix.Length..].Split('-')[0];
            if (!int.TryParse(pid, out int id) || Alive(id)) continue;
            try { File.Delete(file); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}

namespace Mlsae.IO;

/// <summary>Writes files so that a reader never sees a partial one: write a temp file beside the
/// target, then rename it over the target.</summary>
public static class AtomicFile
{
    /// <summary>Runs <paramref name="write"/> on a temp file next to <paramref name="path"/> and
    /// renames it into place; on failure the temp file is removed and the target is untouched.
    /// A target that cannot be written (no such folder, a file where a folder belongs, no
    /// permission, a full disk) is one error naming the target, never the temp file.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new MlsaeException("--out: an empty file name");
        var full = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(full)!;
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MlsaeException($"cannot write {path}: its folder {dir} cannot be created ({Reason(e, dir)})");
        }
        var tmp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            if (e is IOException && e.Message.Contains(tmp)) throw new MlsaeException($"cannot write {path} ({Reason(e, dir)})", e);
            if (e is UnauthorizedAccessException) throw new MlsaeException($"cannot write {path}: permission denied in {dir}", e);
            throw;   // the writer's own error (e.g. reading its input) keeps its message
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    static void TryDelete(string tmp)
    {
        try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>The cause without the temp file's or the framework's path wording.</summary>
    static string Reason(Exception e, string dir) => e switch
    {
        UnauthorizedAccessException => "permission denied",
        IOException when File.Exists(dir) || AnyParentIsFile(dir) => "a file stands where a folder belongs",
        _ => e.Message.Split('\n')[0].Replace(dir, "").Trim(),
    };

    static bool AnyParentIsFile(string dir)
    {
        for (var d = dir; !string.IsNullOrEmpty(d); d = System.IO.Path.GetDirectoryName(d))
            if (File.Exists(d)) return true;
        return false;
    }

    /// <summary>Writes text atomically (UTF-8, no BOM).</summary>
    public static void WriteText(string path, string text) =>
        Write(path, s => { var b = new System.Text.UTF8Encoding(false).GetBytes(text); s.Write(b); });
}

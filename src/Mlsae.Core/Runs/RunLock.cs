namespace Mlsae.Runs;

/// <summary>
/// An exclusive lock on a run folder while a process writes to it (<c>.lock</c>, an OS file lock
/// that the kernel drops when the process dies, so a killed run never blocks its resume), so that
/// two runs into one folder cannot interleave their metrics and checkpoints.
/// </summary>
public sealed class RunLock : IDisposable
{
    /// <summary>The lock file's name inside the run folder.</summary>
    public const string FileName = ".lock";

    readonly FileStream stream;

    RunLock(FileStream stream) => this.stream = stream;

    /// <summary>Takes the lock on <paramref name="folder"/> (creating the folder), or fails with one
    /// line naming the process that holds it.</summary>
    public static RunLock Acquire(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            // The lock file itself cannot be read while held, so the holder's pid goes beside it.
            File.WriteAllText(path + ".pid", Environment.ProcessId.ToString());
            return new RunLock(stream);
        }
        catch (IOException)
        {
            string holder = "";
            try { holder = File.ReadAllText(path + ".pid").Trim(); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new MlsaeException($"--out: {folder} is in use by another mlsae process{(holder.Length > 0 ? $" (pid {holder})" : "")}; wait for it or choose another folder");
        }
    }

    /// <inheritdoc />
    public void Dispose() => stream.Dispose();
}

using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Mlsae.Bench;

/// <summary>
/// Runs one benchmark configuration in a child process: this bench again (a <c>*-config</c>
/// command) or the Python reference. The child prints one JSON object on stdout; its stderr lines
/// pass through to ours with a prefix. Each configuration having a process of its own is what makes
/// its peak RSS (VmHWM) the configuration's own.
/// </summary>
public static class ChildProcess
{
    /// <summary>What a child returned: its JSON on success, else why not (exit code and last stderr line).</summary>
    public sealed record Outcome(JsonElement? Json, string? Error);

    /// <summary>This bench with <paramref name="arguments"/> (the apphost, or <c>dotnet Mlsae.Bench.dll</c>).</summary>
    public static ProcessStartInfo Self(IEnumerable<string> arguments)
    {
        var host = Environment.ProcessPath ?? throw new MlsaeException("bench: cannot find its own executable to start a child");
        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        return start;
    }

    /// <summary>Runs <paramref name="start"/> to its end and parses the last stdout line as JSON.</summary>
    public static Outcome Run(ProcessStartInfo start, string label)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        string? lastError = null;
        using var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            Console.Error.WriteLine($"[{label}] {e.Data}");
            if (e.Data.Trim().Length > 0) lastError = e.Data.Trim();
        };
        try { process.Start(); }
        catch (System.ComponentModel.Win32Exception e) { return new Outcome(null, $"{start.FileName}: {e.Message}"); }
        process.BeginErrorReadLine();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            return new Outcome(null, $"exit {process.ExitCode}: {lastError ?? "no message"}");
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (line is null) return new Outcome(null, "no JSON on stdout");
        try
        {
            using var doc = JsonDocument.Parse(line);
            return new Outcome(doc.RootElement.Clone(), null);
        }
        catch (JsonException e) { return new Outcome(null, $"bad JSON on stdout ({e.Message})"); }
    }

    /// <summary>Runs a short command and returns its exit code and output (exit −1 when it cannot
    /// start or runs past <paramref name="timeout"/>).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Exec(string file, IEnumerable<string> arguments, string? workingDirectory = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) start.WorkingDirectory = workingDirectory;
        foreach (var a in arguments) start.ArgumentList.Add(a);
        Process? process;
        try { process = Process.Start(start); }
        catch (System.ComponentModel.Win32Exception e) { return (-1, "", $"{file}: {e.Message}"); }
        if (process is null) return (-1, "", $"{file}: did not start");
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
            {
                process.Kill(entireProcessTree: true);
                return (-1, "", $"{file}: timed out");
            }
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>The last non-empty line of <paramref name="text"/>, or <paramref name="fallback"/>.</summary>
    public static string LastLine(string text, string fallback) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? fallback;
}

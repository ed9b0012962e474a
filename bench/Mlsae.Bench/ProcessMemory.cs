namespace Mlsae.Bench;

/// <summary>This process's resident memory from <c>/proc/self/status</c> (null where there is none):
/// each benchmark configuration runs in a child process, so its peak is the configuration's own.</summary>
public static class ProcessMemory
{
    /// <summary>VmHWM: the peak resident set so far, MiB.</summary>
    public static double? PeakRssMiB() => Read("VmHWM:");

    /// <summary>VmRSS: the resident set now, MiB.</summary>
    public static double? RssMiB() => Read("VmRSS:");

    static double? Read(string key)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return Math.Round(long.Parse(line[key.Length..].Trim().Split(' ')[0]) / 1024.0, 1);
        return null;
    }
}

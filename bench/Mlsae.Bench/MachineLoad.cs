namespace Mlsae.Bench;

/// <summary>The machine's load average (<c>/proc/loadavg</c>: 1, 5 and 15 minutes), recorded beside
/// the numbers because the machines these benches run on are shared.</summary>
public static class MachineLoad
{
    /// <summary>The three load averages, or null where there is no <c>/proc/loadavg</c>.</summary>
    public static double[]? Now()
    {
        const string path = "/proc/loadavg";
        if (!File.Exists(path)) return null;
        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return [.. parts.Take(3).Select(p => double.Parse(p, System.Globalization.CultureInfo.InvariantCulture))];
    }
}

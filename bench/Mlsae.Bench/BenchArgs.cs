using System.Globalization;

namespace Mlsae.Bench;

/// <summary>The benchmark's command line: the benchmark name, then <c>--flag value</c> pairs and
/// bare switches. A bad value fails with one line naming the flag.</summary>
public sealed class BenchArgs(string[] args)
{
    /// <summary>The benchmark (first argument), <c>forward</c> when none is given.</summary>
    public string Command => args.Length == 0 ? "forward" : args[0];

    /// <summary>The value after <paramref name="name"/>, or null when the flag is absent.</summary>
    public string? Value(string name)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0) return null;
        if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            throw new MlsaeException($"{name}: missing value");
        return args[i + 1];
    }

    /// <summary>The value of <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public string String(string name, string fallback) => Value(name) ?? fallback;

    /// <summary>Whether the bare switch <paramref name="name"/> is present.</summary>
    public bool Switch(string name) => Array.IndexOf(args, name) >= 0;

    /// <summary>An integer flag of at least <paramref name="min"/>.</summary>
    public int Int(string name, int fallback, int min = 1)
    {
        var text = Value(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min)
            throw new MlsaeException($"{name}: expected an integer ≥ {min}, got '{text}'");
        return value;
    }

    /// <summary>A comma-separated list of positive integers.</summary>
    public int[] Ints(string name, string fallback)
    {
        var text = String(name, fallback);
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new MlsaeException($"{name}: expected a comma-separated list of positive integers, got '{text}'");
        return [.. parts.Select(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new MlsaeException($"{name}: expected a comma-separated list of positive integers, got '{text}'"))];
    }

    /// <summary>A comma-separated list of compute dtype names (<c>float32</c>, <c>bfloat16</c>), normalized.</summary>
    public string[] DTypeNames(string name, string fallback)
    {
        var text = String(name, fallback);
        return [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(p => Tensors.DTypes.Name(Tensors.DTypes.Parse(p)))];
    }
}

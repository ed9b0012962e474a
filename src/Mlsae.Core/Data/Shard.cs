namespace Mlsae.Data;

/// <summary>
/// The i-th of n disjoint parts of a sequence stream: sequence j belongs to part j mod n, so the
/// parts interleave and every part sees the same kind of data. <c>0/1</c> is the whole stream.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole stream.</summary>
    public static Shard All { get; } = new(0, 1);

    /// <summary>Whether sequence <paramref name="sequence"/> of the whole stream is in this part.</summary>
    public bool Holds(long sequence) => sequence % Count == Index;

    /// <summary>Parses <c>i/n</c> (as given to <c>--shard</c> or kept in run.json); null is the whole stream.</summary>
    public static Shard Parse(string? value)
    {
        if (value is null) return All;
        var parts = value.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n <= 0 || i < 0 || i >= n)
            throw new MlsaeException($"--shard: expected i/n with 0 <= i < n, got '{value}'");
        return new Shard(i, n);
    }

    /// <summary><c>i/n</c>.</summary>
    public override string ToString() => $"{Index}/{Count}";
}

namespace Mlsae.Explorer;

/// <summary>The K TopK codes of one vector (one layer, one position), ReLU applied, zeros kept,
/// sorted by value descending and, among equal values, by latent index.</summary>
/// <param name="Indices">The latents. // [K]</param>
/// <param name="Values">Their activations. // [K]</param>
public sealed record LatentCodes(long[] Indices, float[] Values)
{
    /// <summary>Sorts one vector's codes as the explorer shows them.</summary>
    public static LatentCodes Sorted(ReadOnlySpan<long> indices, ReadOnlySpan<float> values)
    {
        var order = Enumerable.Range(0, indices.Length).ToArray();
        var (i, v) = (indices.ToArray(), values.ToArray());
        Array.Sort(order, (a, b) => v[b].CompareTo(v[a]) is var c && c != 0 ? c : i[a].CompareTo(i[b]));
        return new LatentCodes(order.Select(o => i[o]).ToArray(), order.Select(o => v[o]).ToArray());
    }
}

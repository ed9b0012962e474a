using TorchSharp;

namespace Mlsae.Tensors;

/// <summary>Shape checks for public boundaries. They run in Release builds too.</summary>
public static class Shapes
{
    /// <summary>
    /// Throws <see cref="MlsaeException"/> unless <paramref name="tensor"/> has
    /// <paramref name="expected"/> shape; -1 in <paramref name="expected"/> matches any size.
    /// </summary>
    public static void Check(torch.Tensor tensor, string name, params long[] expected)
    {
        var actual = tensor.shape;
        bool ok = actual.Length == expected.Length;
        for (int i = 0; ok && i < actual.Length; i++)
            ok = expected[i] < 0 || expected[i] == actual[i];
        if (!ok)
            throw new MlsaeException($"{name}: expected shape {Format(expected)}, got {Format(actual)}");
    }

    /// <summary>Throws unless <paramref name="tensor"/> has rank ≥ 1 and last dimension <paramref name="last"/>.</summary>
    public static void CheckLast(torch.Tensor tensor, string name, long last)
    {
        if (tensor.shape.Length == 0 || tensor.shape[^1] != last)
            throw new MlsaeException($"{name}: expected shape [..., {last}], got {Format(tensor.shape)}");
    }

    /// <summary>Formats a shape as <c>[2, 3, 4]</c>, with <c>*</c> for a wildcard.</summary>
    public static string Format(IEnumerable<long> shape) =>
        "[" + string.Join(", ", shape.Select(s => s < 0 ? "*" : s.ToString())) + "]";
}

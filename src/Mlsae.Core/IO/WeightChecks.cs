using TorchSharp;

namespace Mlsae.IO;

/// <summary>
/// Checks loaders apply to weights read from a file: that a tensor meant to hold weights is
/// floating-point (an integer tensor would otherwise be cast to float silently), and that its
/// values are finite. Failures are one-line <see cref="MlsaeException"/>s naming the file and tensor.
/// </summary>
public static class WeightChecks
{
    // Non-finite values are counted this many elements at a time, so the boolean mask stays small
    // however large the tensor (64 Mi elements: a 64 MiB mask).
    const long CountChunk = 1L << 26;

    /// <summary>Whether <paramref name="type"/> is a floating-point dtype (F16, BF16, F32, F64).</summary>
    public static bool IsFloatingPoint(torch.ScalarType type) =>
        type is torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Float32 or torch.ScalarType.Float64;

    /// <summary>Throws unless tensor <paramref name="name"/> of <paramref name="source"/> is stored
    /// as a floating-point dtype. Reads only the header, not the data.</summary>
    public static void RequireFloat(this IWeightSource source, string name)
    {
        var type = source.DType(name);
        if (!IsFloatingPoint(type))
            throw new MlsaeException(
                $"{source.Path}: tensor '{ContainedPath.Printable(name)}' has dtype {Code(type)}; weights must be floating-point (F16, BF16, F32 or F64)");
    }

    /// <summary>Reads tensor <paramref name="name"/> (see <see cref="IWeightSource.Read"/>) after
    /// <see cref="RequireFloat"/>: an integer or bool tensor is an error naming it and its dtype.</summary>
    public static torch.Tensor ReadFloat(this IWeightSource source, string name)
    {
        source.RequireFloat(name);
        return source.Read(name);
    }

    /// <summary>The number of NaN and ±infinity values in <paramref name="tensor"/> (0 for
    /// integer and bool tensors). Works on any device; memory beyond the tensor stays small.</summary>
    public static long CountNonFinite(torch.Tensor tensor)
    {
        if (!IsFloatingPoint(tensor.dtype) || tensor.numel() == 0) return 0;
        using var flat = tensor.reshape(-1);
        long count = 0;
        for (long start = 0, n = flat.numel(); start < n; start += CountChunk)
        {
            using var part = flat.narrow(0, start, Math.Min(CountChunk, n - start));
            using var finite = part.isfinite();
            using var bad = finite.logical_not();
            using var sum = bad.sum();
            count += sum.item<long>();
        }
        return count;
    }

    /// <summary>Throws <c>"&lt;file&gt;: tensor '&lt;name&gt;' has N non-finite values"</c> when
    /// <paramref name="tensor"/> holds any NaN or infinity.</summary>
    public static void CheckFinite(string file, string name, torch.Tensor tensor)
    {
        long bad = CountNonFinite(tensor);
        if (bad > 0) throw new MlsaeException($"{file}: tensor '{ContainedPath.Printable(name)}' has {bad} non-finite values");
    }

    /// <summary><see cref="CheckFinite(string, string, torch.Tensor)"/> naming <paramref name="source"/>'s file.</summary>
    public static void CheckFinite(this IWeightSource source, string name, torch.Tensor tensor) =>
        CheckFinite(source.Path, name, tensor);

    static string Code(torch.ScalarType type)
    {
        try { return $"{SafeTensorsDType.Code(type)} ({type})"; }
        catch (MlsaeException) { return type.ToString(); }
    }
}

using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>Per-vector standardization as the reference's <c>standardize</c>: subtract the mean,
/// divide by the <b>unbiased</b> std plus eps (eps added to the std, not the variance).</summary>
/// <param name="Standardized">The standardized inputs. // [N, D]</param>
/// <param name="Mean">Per-vector mean. // [N, 1]</param>
/// <param name="Std">Per-vector unbiased std of the centred vector (without eps). // [N, 1]</param>
public sealed record Standardization(Tensor Standardized, Tensor Mean, Tensor Std) : IDisposable
{
    /// <summary>The reference's eps.</summary>
    public const double Eps = 1e-5;

    /// <summary>Standardizes <paramref name="x"/>. // [N, D]</summary>
    public static Standardization Of(Tensor x)
    {
        var mean = x.mean([-1], keepdim: true);
        var centred = x - mean;
        var std = centred.std(-1, unbiased: true, keepdim: true);
        return new Standardization(centred / (std + Eps), mean, std);
    }

    /// <summary>Maps a reconstruction back to raw space: <c>x · std + mean</c>. // [N, D]</summary>
    public Tensor Undo(Tensor standardized) => standardized * Std + Mean;

    /// <inheritdoc />
    public void Dispose()
    {
        Standardized.Dispose();
        Mean.Dispose();
        Std.Dispose();
    }
}

using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// The unit-norm decoder every TopK coder here keeps, one row per latent (an MLSAE's <c>[F, D]</c>,
/// a crosscoder's <c>[F, L·D]</c> over its concatenated layers): the reference's
/// <c>unit_norm_decoder</c> and <c>unit_norm_decoder_gradient</c>.
/// </summary>
public static class UnitNormDecoder
{
    /// <summary>Rescales every row of <paramref name="decoder"/> to unit norm. // [F, X]</summary>
    public static void Normalize(Tensor decoder)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        decoder.div_(decoder.norm(1, keepdim: true));
    }

    /// <summary>Removes from each row of <paramref name="decoder"/>'s gradient its component along that
    /// (unit-norm) row; nothing without a gradient. // [F, X]</summary>
    public static void ProjectGradient(Tensor decoder)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var grad = decoder.grad;
        if (grad is null) return;
        // Row blocks: the products below are block-sized temporaries, not parameter-sized.
        foreach (var (start, length) in Tensors.RowChunks.Of(decoder.shape[0], decoder.shape[1]))
        {
            using var block = NewDisposeScope();
            var g = grad.narrow(0, start, length);                                  // [f, X]
            var w = decoder.narrow(0, start, length);
            var along = (g * w).sum(1, keepdim: true);                               // [f, 1]
            g.sub_(along * w);
        }
    }
}

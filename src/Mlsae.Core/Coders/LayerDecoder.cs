using static TorchSharp.torch;

namespace Mlsae.Coders;

/// <summary>
/// The decoder vectors through which a sparse coder's latents write into one of its layers: for the
/// MLSAE its one decoder (every latent, every layer), for a per-layer family the decoder of that
/// layer's SAE (its block of latents), for a crosscoder every latent's slice at that layer (whose
/// norm is the latent's part of its unit-norm decoder column).
/// </summary>
/// <param name="FirstLatent">The latent of row 0: the rows are latents <c>FirstLatent … FirstLatent + F' − 1</c>
/// (0 but for a per-layer family, whose layer l holds latents l·F …).</param>
/// <param name="Weight">One row per latent, detached from the parameter (a view of it, or for the crosscoder a copy of
/// its slice): read it, never write it. // [F', D]</param>
/// <param name="Standardized">Whether the rows live in standardized space: a reconstruction is
/// de-standardized per vector (<c>x·σ + μ</c>), so a step along a row in the residual basis scales with σ.</param>
public sealed record LayerDecoder(long FirstLatent, Tensor Weight, bool Standardized) : IDisposable
{
    /// <summary>Latents in <see cref="Weight"/>.</summary>
    public long Count => Weight.shape[0];

    /// <summary>Whether <paramref name="latent"/> writes into this layer through a row here.</summary>
    public bool Holds(long latent) => latent >= FirstLatent && latent < FirstLatent + Count;

    /// <summary>The row of <paramref name="latent"/>, or null when it writes nothing into this layer. // [D]</summary>
    public Tensor? Row(long latent) => Holds(latent) ? Weight[latent - FirstLatent] : null;

    /// <inheritdoc />
    public void Dispose() => Weight.Dispose();
}

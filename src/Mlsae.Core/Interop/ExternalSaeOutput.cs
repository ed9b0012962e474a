using Mlsae.Autoencoder;
using static TorchSharp.torch;

namespace Mlsae.Interop;

/// <summary>One forward pass of an <see cref="ExternalTopKSae"/>, shaped like its input <c>[..., D]</c>.</summary>
/// <param name="TopK">The K latents and their activations as the tool's encoder returns them
/// (ReLU'd, except for <see cref="ExternalActivation.SignedTopK"/>; multiplied by the decoder row
/// norm under <see cref="ExternalSaeConfig.RescaleByDecoderNorm"/>). // [..., K]</param>
/// <param name="TopKRaw">The selected values before the ReLU (SAELens's TopK applies it after the
/// selection); for the sparsify activations, which apply it before, equal to <c>TopK.Values</c>. // [..., K]</param>
/// <param name="Recons">The reconstruction, mapped back through the input normalization. // [..., D]</param>
public sealed record ExternalSaeOutput(TopK TopK, Tensor TopKRaw, Tensor Recons) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        TopK.Dispose();
        TopKRaw.Dispose();
        Recons.Dispose();
    }
}

using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// Decodes TopK latents as <c>Σ_j v_j W[i_j]</c> without materializing <c>[N, F]</c>: an
/// EmbeddingBag in sum mode with per-sample weights, sharing the decoder parameter. Its backward
/// gives exact gradients to both the values and the weight, and exactly zero to latents that were
/// not selected (TorchSharp's sparse COO tensors would drop the gradient altogether).
/// </summary>
sealed class SparseDecoder : IDisposable
{
    readonly EmbeddingBag bag;

    /// <summary>Binds to <paramref name="weight"/> // [F, D]</summary>
    public SparseDecoder(Parameter weight)
    {
        bag = nn.EmbeddingBag(weight.shape[0], weight.shape[1], mode: TorchSharp.EmbeddingBagMode.Sum, device: weight.device, dtype: weight.dtype);
        bag.weight = weight;
    }

    /// <summary>Decodes. // [N, K] → [N, D]</summary>
    public Tensor Decode(TopK topk) => bag.call(topk.Indices, null, topk.Values);

    /// <inheritdoc />
    public void Dispose() => bag.Dispose();
}

using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// Decodes TopK latents as <c>Σ_j v_j W[i_j]</c> without materializing <c>[N, F]</c>. On the CPU
/// the hand-written kernels of <see cref="SparseDecode"/>; elsewhere an EmbeddingBag in sum mode
/// with per-sample weights, sharing the decoder parameter. Both give exact gradients to the values
/// and the weight, and exactly zero to latents that were not selected (TorchSharp's sparse COO
/// tensors would drop the gradient altogether).
/// </summary>
sealed class SparseDecoder : IDisposable
{
    readonly Parameter weight;
    readonly EmbeddingBag bag;

    /// <summary>Binds to <paramref name="weight"/> // [F, D]</summary>
    public SparseDecoder(Parameter weight)
    {
        this.weight = weight;
        bag = nn.EmbeddingBag(weight.shape[0], weight.shape[1], mode: TorchSharp.EmbeddingBagMode.Sum, device: weight.device, dtype: weight.dtype);
        bag.weight = weight;
    }

    /// <summary>Decodes. // [N, K] → [N, D]</summary>
    public Tensor Decode(TopK topk) => weight.device_type == TorchSharp.DeviceType.CPU && weight.dtype == ScalarType.Float32
        ? SparseDecode.apply(topk.Values, topk.Indices, weight)[0]
        : bag.call(topk.Indices, null, topk.Values);

    /// <summary>The EmbeddingBag path on any device (the cross-check of the CPU kernels).</summary>
    internal Tensor DecodeWithEmbeddingBag(TopK topk) => bag.call(topk.Indices, null, topk.Values);

    /// <inheritdoc />
    public void Dispose() => bag.Dispose();
}

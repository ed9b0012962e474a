using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>The K largest latents of each vector, unsorted as the reference's <c>torch.topk(sorted=False)</c>.</summary>
/// <param name="Values">Activations. // [..., K]</param>
/// <param name="Indices">Latent indices. // [..., K]</param>
public sealed record TopK(Tensor Values, Tensor Indices) : IDisposable
{
    /// <summary>Scatters into a dense tensor. // [..., F]</summary>
    public Tensor Dense(long nLatents)
    {
        var shape = Values.shape.ToArray();
        shape[^1] = nLatents;
        return zeros(shape, Values.dtype, Values.device).scatter_(-1, Indices, Values);
    }

    /// <summary>Reshapes both to <c>[..shape, K]</c>.</summary>
    public TopK Reshape(long[] leading) =>
        new(Values.reshape([.. leading, Values.shape[^1]]), Indices.reshape([.. leading, Indices.shape[^1]]));

    /// <inheritdoc />
    public void Dispose()
    {
        Values.Dispose();
        Indices.Dispose();
    }
}

using static TorchSharp.torch;

namespace Mlsae.Activations;

/// <summary>What <see cref="ActivationsExporter.Run"/> produces; disposing it disposes the tensors.</summary>
/// <param name="HiddenStates">F32 <c>[L, B, T, D]</c> on the CPU, special positions zeroed unless disabled.</param>
/// <param name="Logits">F32 <c>[B, T, V]</c> on the CPU, when asked for.</param>
/// <param name="Loss">F32 0-d: mean next-token cross-entropy over all B·(T−1) predictions, with logits.</param>
/// <param name="Layers">The model layer index of each entry of L.</param>
public sealed record ActivationsResult(Tensor HiddenStates, Tensor? Logits, Tensor? Loss, IReadOnlyList<int> Layers) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        HiddenStates.Dispose();
        Logits?.Dispose();
        Loss?.Dispose();
    }
}

using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>What one forward pass of <see cref="ILanguageModel.Forward"/> returns. Disposing it
/// disposes the tensors.</summary>
/// <param name="HiddenStates">Block outputs of the selected layers, <c>[L, B, T, D]</c> (no
/// embeddings, no final norm), in the model's compute dtype.</param>
/// <param name="Logits">Next-token logits <c>[B, T, V]</c>, when asked for.</param>
public sealed record LanguageModelOutput(Tensor HiddenStates, Tensor? Logits) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        HiddenStates.Dispose();
        Logits?.Dispose();
    }
}

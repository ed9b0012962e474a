using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Lens.Training;

/// <summary>
/// What one model forward gives lens training: the HF hidden states a translator reads and the
/// model's own final next-token distribution it is trained toward. Disposing it disposes both.
/// </summary>
/// <param name="Hidden">HF <c>hidden_states[0..L−1]</c> float32 <c>[L, B, T, D]</c>: the embeddings, then the stream entering each block (block i−1's output), no final norm.</param>
/// <param name="FinalLogProbs">log-softmax of the model's logits, float32 <c>[B, T, V]</c>.</param>
public sealed record LensBatch(Tensor Hidden, Tensor FinalLogProbs) : IDisposable
{
    /// <summary>Runs <paramref name="model"/> on <paramref name="tokens"/> <c>[B, T]</c> without gradients.</summary>
    public static LensBatch Of(ILanguageModel model, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        int layers = model.Config.NumHiddenLayers;
        var ids = tokens.to(ScalarType.Int64, model.Device);
        var output = model.Forward(ids, Enumerable.Range(0, layers - 1).ToArray(), logits: true);   // blocks 0..L−2: [L−1, B, T, D]
        using var embedIn = model.InputEmbeddings();                                                // [V, D]
        var embeddings = embedIn.index_select(0, ids.reshape(-1)).reshape(ids.shape[0], ids.shape[1], -1);   // [B, T, D]
        var hidden = cat([embeddings.unsqueeze(0), output.HiddenStates], 0).to(ScalarType.Float32);          // [L, B, T, D]
        var logProbs = output.Logits!.to(ScalarType.Float32).log_softmax(-1);                                 // [B, T, V]
        return new LensBatch(hidden.MoveToOuterDisposeScope(), logProbs.MoveToOuterDisposeScope());
    }

    /// <summary>The lens's logits for translated hidden states: the model's final LayerNorm and
    /// unembedding (a forward from after the last block). // [B, T, D] → [B, T, V]</summary>
    public static Tensor Unembed(ILanguageModel model, Tensor translated) =>
        model.ForwardAtLayer(translated.to(model.DType), model.Config.NumHiddenLayers - 1);

    /// <summary>The package's KL loss: <c>Σ_v p·(log p − log q)</c> from the final distribution p to
    /// the lens's q, averaged over all B·T positions (the current token's prediction: shift 0). // → []</summary>
    public static Tensor KlDivergence(Tensor finalLogProbs, Tensor lensLogits)
    {
        var logQ = lensLogits.to(ScalarType.Float32).log_softmax(-1);
        return (finalLogProbs.exp() * (finalLogProbs - logQ)).sum(-1).mean();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Hidden.Dispose();
        FinalLogProbs.Dispose();
    }
}

using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>
/// What the SAE side needs of a causal language model: its config facts, where it runs, the
/// residual stream of chosen layers, a forward pass that resumes from a layer with replaced
/// activations (the reference's <c>forward_at_layer</c>, for ΔCE, KL and logit MSE), its
/// embedding matrices and its special tokens. Layer l's residual stream is the output of block l
/// (no embeddings, no final norm). A family implements it in its own folder under Models/ and
/// registers its loader in <see cref="ModelRegistry"/>.
/// </summary>
public interface ILanguageModel : IDisposable
{
    /// <summary>The config facts (model type, layers, D, V, max positions, special ids).</summary>
    ILanguageModelConfig Config { get; }

    /// <summary>The device the parameters live on.</summary>
    Device Device { get; }

    /// <summary>The compute dtype of the parameters.</summary>
    ScalarType DType { get; }

    /// <summary>The bos/eos/pad ids whose residual-stream vectors the reference zeroes; read from
    /// the tokenizer files when the model has a folder with them, else from the config.</summary>
    SpecialTokens SpecialTokens { get; }

    /// <summary>The folder the model's tokenizer files live in (its HF folder), or null for a model
    /// built in memory.</summary>
    string? TokenizerFolder { get; }

    /// <summary>
    /// Runs the model on <paramref name="tokens"/> <c>[B, T]</c> and returns the block outputs of
    /// <paramref name="layers"/> (model indices, any order, default all) as <c>[L, B, T, D]</c> in
    /// the compute dtype, and the logits <c>[B, T, V]</c> when <paramref name="logits"/> is set.
    /// Blocks after the last needed one are skipped when no logits are asked for. A layer out of
    /// range is an <see cref="MlsaeException"/>.
    /// </summary>
    LanguageModelOutput Forward(Tensor tokens, IReadOnlyList<int>? layers = null, bool logits = false);

    /// <summary>
    /// Starts from <paramref name="hidden"/> <c>[B, T, D]</c> taken as the output of block
    /// <paramref name="startLayer"/>, runs the blocks after it, the final norm and the unembedding.
    /// Returns logits <c>[B, T, V]</c>.
    /// </summary>
    Tensor ForwardAtLayer(Tensor hidden, int startLayer);

    /// <summary>The input embedding matrix <c>[V, D]</c> (GPT-NeoX: <c>gpt_neox.embed_in.weight</c>),
    /// detached, in the compute dtype; a fresh handle the caller disposes.</summary>
    Tensor InputEmbeddings();

    /// <summary>The unembedding matrix <c>[V, D]</c> (GPT-NeoX: <c>embed_out.weight</c>), detached,
    /// in the compute dtype; a fresh handle the caller disposes.</summary>
    Tensor OutputEmbeddings();

    /// <summary>Mean next-token cross-entropy of a causal language model: <c>logits[:, :-1]</c>
    /// <c>[B, T, V]</c> against <c>tokens[:, 1:]</c> <c>[B, T]</c>, averaged over all B·(T−1)
    /// predictions, computed in float32. Returns a 0-d tensor.</summary>
    public static Tensor NextTokenLoss(Tensor logits, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        long v = logits.shape[^1];
        var shifted = logits[.., ..^1, ..].to(ScalarType.Float32).reshape(-1, v);
        var labels = tokens.to(ScalarType.Int64, logits.device)[.., 1..].reshape(-1);
        return nn.functional.cross_entropy(shifted, labels).MoveToOuterDisposeScope();
    }
}

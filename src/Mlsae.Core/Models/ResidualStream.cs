using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>
/// The MLSAE's input: a language model's block outputs for chosen layers, without gradients,
/// mapped per layer by <see cref="Hook"/> when given, with special-token positions zeroed (as
/// the reference's <c>Transformer.forward</c>) unless disabled, cast to float32 for the autoencoder.
/// With <see cref="Cached"/> the block outputs of batches it holds come from there instead of the
/// model; the hook and the zeroing apply to them exactly as to the model's.
/// </summary>
public sealed class ResidualStream(ILanguageModel model, IReadOnlyList<int> layers, SpecialTokens? zeroSpecial, IResidualHook? hook = null,
    ICachedHiddenStates? cached = null)
{
    /// <summary>The model.</summary>
    public ILanguageModel Model { get; } = model;
    /// <summary>Model layer indices, one per row of the output.</summary>
    public IReadOnlyList<int> Layers { get; } = layers;
    /// <summary>The special tokens zeroed, or null.</summary>
    public SpecialTokens? ZeroSpecial { get; } = zeroSpecial;
    /// <summary>The map into the SAE's space applied per layer, or null for the identity.</summary>
    public IResidualHook? Hook { get; } = hook;
    /// <summary>Stored block outputs read instead of running the model, or null.</summary>
    public ICachedHiddenStates? Cached { get; } = cached;

    /// <summary>Runs the model: the SAE's inputs. // [B, T] → [L, B, T, D] float32</summary>
    public Tensor Forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var hidden = BlockOutputs(tokens);                                           // [L, B, T, D]
        return Map(hidden, tokens).MoveToOuterDisposeScope();
    }

    /// <summary>Runs the model once and returns both the SAE's inputs and the model's own residual
    /// stream (special positions zeroed as without a hook), which downstream metrics run on from.
    /// Without a hook both are the same tensor.</summary>
    public ResidualStreamOutput ForwardBoth(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var hidden = BlockOutputs(tokens).to(ScalarType.Float32);                    // [L, B, T, D]
        if (Hook is null)
        {
            var zeroed = Zero(hidden, tokens).MoveToOuterDisposeScope();
            return new ResidualStreamOutput(zeroed, zeroed);
        }
        var inputs = Map(hidden, tokens).MoveToOuterDisposeScope();
        return new ResidualStreamOutput(inputs, Zero(hidden, tokens).MoveToOuterDisposeScope());
    }

    /// <summary>The raw block outputs of <see cref="Layers"/>: the cache's when it holds the whole batch,
    /// else the model's (in its compute dtype). // [B, T] → [L, B, T, D]</summary>
    Tensor BlockOutputs(Tensor tokens) => Cached?.Read(tokens, Layers) ?? Model.Forward(tokens, Layers).HiddenStates;

    /// <summary>
    /// Maps block outputs of <see cref="Layers"/> into the SAE's space: the hook and the special-token
    /// zeroing, in the hook's order. By default the hook comes before the zeroing, since a map with a
    /// bias (the tuned lens) would otherwise move the zeroed positions off zero, and the SAE must see
    /// zeros there as without a hook; <see cref="IResidualHook.ZeroSpecialFirst"/> reverses the order
    /// (the reference's). // hidden [L, B, T, D], tokens [B, T] → [L, B, T, D] float32
    /// </summary>
    public Tensor Map(Tensor hidden, Tensor tokens)
    {
        using var scope = NewDisposeScope();
        hidden = hidden.to(ScalarType.Float32);
        if (Hook is null) return Zero(hidden, tokens).MoveToOuterDisposeScope();
        var mapped = Hook.ZeroSpecialFirst ? In(Zero(hidden, tokens)) : Zero(In(hidden), tokens);
        return mapped.MoveToOuterDisposeScope();
    }

    Tensor Zero(Tensor hidden, Tensor tokens) => ZeroSpecial is null ? hidden.alias() : ZeroSpecial.Zero(hidden, tokens.to(hidden.device));

    Tensor In(Tensor hidden)                                                          // [L, B, T, D] → [L, B, T, D]
    {
        if (Layers.Count == 0) return hidden;
        var mapped = new Tensor[Layers.Count];
        for (int i = 0; i < mapped.Length; i++)
        {
            mapped[i] = Hook!.In(hidden[i], Layers[i]);
            Shapes.Check(mapped[i], $"residual hook In(layer {Layers[i]})", hidden.shape[1..]);
        }
        return stack(mapped, 0).to(ScalarType.Float32);
    }

    /// <summary>A batch as a tensor on the model's device, with ids checked against the vocabulary. // [B, T]</summary>
    public Tensor Tokens(IReadOnlyList<long[]> batch) => Data.TokenBatch.ToTensor(batch, Model.Config.VocabSize, Model.Device);
}

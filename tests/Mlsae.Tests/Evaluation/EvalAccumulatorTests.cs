using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Evaluation;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Evaluation;

/// <summary>The two dead fractions and the loss terms on hand-made TopK codes.</summary>
public class EvalAccumulatorTests
{
    /// <summary>One batch's output with the given latents selected, <c>[L, B, T, K]</c>; values 1, recons half the inputs.</summary>
    static void Add(EvalAccumulator accumulator, long[] indices, long[] shape, SparseCoderLoss? loss = null)
    {
        using var scope = NewDisposeScope();
        var inputs = arange(shape[0] * shape[1] * shape[2] * 2, ScalarType.Float32).reshape(shape[0], shape[1], shape[2], 2);   // [L, B, T, D=2]
        var ids = tensor(indices, shape);
        var values = ones(shape);
        using var output = new SparseCoderOutput(new TopK(values, ids), values.clone(), inputs * 0.5, null, null, null, tensor(0f));
        accumulator.Add(inputs, output, null, loss);
    }

    [Fact]
    public void DeadFractionIsPerBatchAsTheReferenceAndTheTotalCountsAllTokens()
    {
        // 4 latents, 1 layer, 1 × 2 tokens, K 1. Batch 1 selects latents 0 and 1, batch 2 latents 2
        // and 3. With a threshold of 1e7 a latent is dead in a batch when never selected there
        // (2 tokens / 1e7 < 1): half the latents per batch, none over both batches.
        var accumulator = new EvalAccumulator([0], 4, 1e7, 1e-3);
        Add(accumulator, [0, 1], [1, 1, 2, 1]);
        Add(accumulator, [2, 3], [1, 1, 2, 1]);
        var result = accumulator.Result();
        Assert.Equal(0.5, result.DeadFraction, 12);
        Assert.Equal(0.0, result.DeadFractionTotal, 12);
        Assert.Equal(4, result.Tokens);
    }

    [Fact]
    public void ALatentSelectedAtAnyLayerIsAliveAndTheThresholdScalesWithTheBatchTokens()
    {
        // 2 layers, 1 × 2 tokens, K 1, 4 latents; threshold 1 token: a latent is dead in a batch when
        // selected fewer than 2 times (its 2 tokens / 1). Batch 1: layer 0 picks 0, 0; layer 1 picks
        // 1, 2 → only latent 0 reaches 2 (dead 3/4). Batch 2: layer 0 picks 3, 3; layer 1 picks 3, 0
        // → only latent 3 (dead 3/4). Total over 4 tokens: latent 0 has 3, latent 3 has 3, 1 and 2
        // one each, all below 4 → dead 4/4.
        var accumulator = new EvalAccumulator([0, 5], 4, 1, 1e-3);
        Add(accumulator, [0, 0, 1, 2], [2, 1, 2, 1]);
        Add(accumulator, [3, 3, 3, 0], [2, 1, 2, 1]);
        var result = accumulator.Result();
        Assert.Equal(0.75, result.DeadFraction, 12);
        Assert.Equal(1.0, result.DeadFractionTotal, 12);
        Assert.Equal([0, 5], result.Layers);
    }

    [Fact]
    public void TheLossTermsAreTheMeansOfTheBatchValues()
    {
        var accumulator = new EvalAccumulator([0], 4, 1e7, 1e-3);
        using var first = new SparseCoderLoss(tensor(0.75f), tensor(0.5f), tensor(new[] { 0.5f }), tensor(0.25f));
        using var second = new SparseCoderLoss(tensor(1.25f), tensor(1.0f), tensor(new[] { 1.0f }), tensor(0.25f));
        Add(accumulator, [0, 1], [1, 1, 2, 1], first);
        Add(accumulator, [0, 1], [1, 1, 2, 1], second);
        var loss = accumulator.Result().Loss!;
        Assert.Equal(1.0, loss.Total, 6);
        Assert.Equal(0.75, loss.Mse, 6);
        Assert.Equal(0.25, loss.AuxK, 6);
        // FVU of recons = inputs / 2 on one batch, by hand: inputs 0..3 → MSE mean((x/2)²) = 14/16, var 5/3.
        Assert.Equal(14.0 / 16 / (5.0 / 3), accumulator.Result().PerLayer["fvu"][0], 6);
    }
}

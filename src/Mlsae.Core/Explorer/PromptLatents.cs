using Mlsae.Coders;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Explorer;

/// <summary>
/// One prompt through the model and the sparse coder, sparse as the explorer serves it: per layer
/// and position the K TopK codes (the <c>latents</c> command's raw values with ReLU applied,
/// sorted), per-layer histograms of the active codes, the model's top next-token logits at every
/// position and the prompt's loss. Positions are real positions of one sequence <c>[1, T]</c>
/// (rotary and causal mask as in training), special-token positions zeroed as everywhere.
/// </summary>
/// <param name="Ids">The token ids. // [T]</param>
/// <param name="Layers">Model layer indices, one per row of <paramref name="Latents"/>.</param>
/// <param name="Latents">Codes by layer, then position. // [L][T]</param>
/// <param name="Histograms">Per layer, the codes above the dead threshold over shared edges. // [L]</param>
/// <param name="Logits">The model's top next-token logits per position. // [T][top]</param>
/// <param name="Loss">Mean next-token cross-entropy; null for a one-token prompt (nothing to predict).</param>
public sealed record PromptLatents(long[] Ids, int[] Layers, LatentCodes[][] Latents, LayerHistogram[] Histograms, TokenLogit[][] Logits, double? Loss)
{
    /// <summary>Bins of the per-layer histograms.</summary>
    public const int HistogramBins = 32;

    /// <summary>Encodes <paramref name="ids"/>; <paramref name="cancel"/> is checked between the model, the coder and the logits.</summary>
    public static PromptLatents Compute(ModelSession model, ISparseCoder sae, long[] ids, int topLogits, CancellationToken cancel)
    {
        if (ids.Length == 0) throw new MlsaeException("the prompt has no tokens");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = model.Stream.Tokens([ids]);                                   // [1, T]
        var inputs = model.Stream.Forward(tokens);                                 // [L, 1, T, D]
        cancel.ThrowIfCancellationRequested();
        using var output = sae.Forward(inputs, training: false);
        int layers = (int)inputs.shape[0], t = ids.Length, k = sae.K;
        var values = output.TopK.Values.cpu().contiguous().data<float>().ToArray();     // [L, 1, T, K], ReLU'd
        var indices = output.TopK.Indices.cpu().contiguous().data<long>().ToArray();
        var codes = new LatentCodes[layers][];
        var active = new List<float>[layers];
        for (int l = 0; l < layers; l++)
        {
            codes[l] = new LatentCodes[t];
            active[l] = [];
            for (int p = 0; p < t; p++)
            {
                int at = (l * t + p) * k;
                codes[l][p] = LatentCodes.Sorted(indices.AsSpan(at, k), values.AsSpan(at, k));
                active[l].AddRange(codes[l][p].Values.Where(v => v > sae.DeadThreshold));
            }
        }
        cancel.ThrowIfCancellationRequested();
        var logits = model.Model.Forward(tokens, [], logits: true).Logits!;         // [1, T, V]
        double? loss = t < 2 ? null : ILanguageModel.NextTokenLoss(logits, tokens).item<float>();
        return new PromptLatents(ids, model.Layers, codes, LayerHistogram.Shared(active, HistogramBins), TokenLogit.Top(logits[0], topLogits), loss);
    }
}

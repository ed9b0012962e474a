using Mlsae.Coders;
using Mlsae.Metrics;
using static TorchSharp.torch;

namespace Mlsae.Evaluation;

/// <summary>Collects per-batch metrics and the latents' selection counts over an evaluation.</summary>
public sealed class EvalAccumulator(IReadOnlyList<int> layers, long nLatents, double deadTokensThreshold, double deadThreshold)
{
    readonly Dictionary<string, List<double[]>> batches = new();
    readonly List<double> deadPerBatch = [];
    readonly List<(double Total, double Mse, double AuxK)> losses = [];
    readonly long[] selections = new long[nLatents];
    long tokens;

    /// <summary>Adds one batch; <paramref name="loss"/> (the coder's loss on it) is optional. // inputs [L, B, T, D]</summary>
    public void Add(Tensor inputs, SparseCoderOutput output, DownstreamMetrics? downstream, SparseCoderLoss? loss = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Record("fvu", Fvu.PerLayer(inputs, output.Recons));
        Record("mse", Fvu.LayerMse(inputs, output.Recons));
        Record("l1", SparsityMetrics.L1(output.TopK.Values));
        Record("l0", SparsityMetrics.L0(output.TopK.Values, deadThreshold));
        if (downstream is not null)
        {
            Record("delta_ce_loss", downstream.DeltaLoss);
            Record("kl_div", downstream.KlDiv);
            Record("logit_mse", downstream.LogitMse);
            Record("ce_loss", downstream.LossTrue);
            Record("ce_loss_recons", downstream.LossPred);
        }
        if (loss is not null) losses.Add((loss.Total.item<float>(), loss.FvuMean.item<float>(), loss.AuxK.item<float>()));
        var counts = SparsityMetrics.Selections(output.TopK.Indices, nLatents).cpu().data<long>().ToArray();
        long batchTokens = inputs.shape[1] * inputs.shape[2];
        // The reference's test step: DeadLatents over this batch alone (its B·T tokens), then the mean over batches.
        deadPerBatch.Add(SparsityMetrics.DeadFraction((IReadOnlyList<long>)counts, batchTokens, deadTokensThreshold));
        for (int i = 0; i < counts.Length; i++) selections[i] += counts[i];
        tokens += batchTokens;
    }

    void Record(string name, Tensor perLayer) => Record(name, perLayer.to(ScalarType.Float64).cpu().data<double>().ToArray());

    void Record(string name, double[] perLayer)
    {
        if (!batches.TryGetValue(name, out var list)) batches[name] = list = [];
        list.Add(perLayer);
    }

    /// <summary>The batches added so far.</summary>
    public int Batches => batches.TryGetValue("fvu", out var l) ? l.Count : 0;

    /// <summary>The result: each metric the mean of its per-batch values; <c>dead_fraction_total</c> over all tokens at once.</summary>
    public EvalResult Result()
    {
        if (Batches == 0) throw new MlsaeException("evaluation: no batches (the data holds no full sequence)");
        var perLayer = batches.ToDictionary(kv => kv.Key,
            kv => Enumerable.Range(0, layers.Count).Select(l => kv.Value.Average(b => b[l])).ToArray());
        return new EvalResult(layers.ToArray(), tokens, Batches, perLayer, deadPerBatch.Average())
        {
            DeadFractionTotal = SparsityMetrics.DeadFraction((IReadOnlyList<long>)selections, tokens, deadTokensThreshold),
            Loss = losses.Count == 0 ? null : new EvalLoss(losses.Average(l => l.Total), losses.Average(l => l.Mse), losses.Average(l => l.AuxK)),
        };
    }
}

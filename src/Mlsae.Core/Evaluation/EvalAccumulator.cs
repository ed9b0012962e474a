using Mlsae.Coders;
using Mlsae.Distributed;
using Mlsae.Metrics;
using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Evaluation;

/// <summary>Collects per-batch metrics and the latents' selection counts over an evaluation.</summary>
public sealed class EvalAccumulator(IReadOnlyList<int> layers, long nLatents, double deadTokensThreshold, double deadThreshold)
{
    // The per-batch metrics, in the order Add records them (eval.json keeps that order).
    static readonly string[] Names = ["fvu", "mse", "l1", "l0", "delta_ce_loss", "kl_div", "logit_mse", "ce_loss", "ce_loss_recons"];

    readonly Dictionary<string, List<double[]>> batches = new();
    readonly List<long> indices = [];
    readonly List<double> deadPerBatch = [];
    readonly List<(double Total, double Mse, double AuxK)> losses = [];
    readonly long[] selections = new long[nLatents];
    long tokens;

    /// <summary>Adds one batch; <paramref name="loss"/> (the coder's loss on it) is optional;
    /// <paramref name="index"/> is its place in the whole evaluation (default: after the last). // inputs [L, B, T, D]</summary>
    public void Add(Tensor inputs, SparseCoderOutput output, DownstreamMetrics? downstream, SparseCoderLoss? loss = null, long? index = null)
    {
        indices.Add(index ?? (indices.Count == 0 ? 0 : indices[^1] + 1));
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

    /// <summary>
    /// Replaces every rank's batches with those of all the ranks in the order of their indices, and
    /// sums the selection counts and tokens, so every rank's <see cref="Result"/> is the one process's
    /// over all the batches bit for bit (each per-batch value travels exactly, and the means add them
    /// in the same order).
    /// </summary>
    public void GatherOverRanks(IDataParallel parallel)
    {
        if (parallel.Size == 1) return;
        var rows = new List<double[]>();
        for (int i = 0; i < indices.Count; i++)
        {
            var row = new List<double>();
            foreach (var name in Names)
                if (batches.TryGetValue(name, out var list)) { row.Add(1); row.AddRange(list[i]); }
                else row.Add(0);
            row.Add(deadPerBatch[i]);
            if (losses.Count > 0) row.AddRange([1, losses[i].Total, losses[i].Mse, losses[i].AuxK]);
            else row.Add(0);
            rows.Add([.. row]);
        }
        var all = RankGather.BatchRows(parallel, indices, rows);
        batches.Clear();
        deadPerBatch.Clear();
        losses.Clear();
        indices.Clear();
        foreach (var row in all)
        {
            int at = 0;
            foreach (var name in Names)
                if (row[at++] == 1)
                {
                    Record(name, row[at..(at + layers.Count)]);
                    at += layers.Count;
                }
            deadPerBatch.Add(row[at++]);
            if (row[at++] == 1) losses.Add((row[at], row[at + 1], row[at + 2]));
            indices.Add(indices.Count);
        }
        RankGather.Sum(parallel, selections);
        var total = new[] { tokens };
        RankGather.Sum(parallel, total);
        tokens = total[0];
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

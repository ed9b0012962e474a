using Mlsae.Coders;
using Mlsae.Metrics;
using static TorchSharp.torch;

namespace Mlsae.Evaluation;

/// <summary>Collects per-batch metrics and the latents' selection counts over an evaluation.</summary>
public sealed class EvalAccumulator(IReadOnlyList<int> layers, long nLatents, double deadTokensThreshold, double deadThreshold)
{
    readonly Dictionary<string, List<double[]>> batches = new();
    readonly long[] selections = new long[nLatents];
    long tokens;

    /// <summary>Adds one batch. // inputs [L, B, T, D]</summary>
    public void Add(Tensor inputs, SparseCoderOutput output, DownstreamMetrics? downstream)
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
        var counts = SparsityMetrics.Selections(output.TopK.Indices, nLatents).cpu().data<long>().ToArray();
        for (int i = 0; i < counts.Length; i++) selections[i] += counts[i];
        tokens += inputs.shape[1] * inputs.shape[2];
    }

    void Record(string name, Tensor perLayer) => Record(name, perLayer.to(ScalarType.Float64).cpu().data<double>().ToArray());

    void Record(string name, double[] perLayer)
    {
        if (!batches.TryGetValue(name, out var list)) batches[name] = list = [];
        list.Add(perLayer);
    }

    /// <summary>The batches added so far.</summary>
    public int Batches => batches.TryGetValue("fvu", out var l) ? l.Count : 0;

    /// <summary>The result: each metric the mean of its per-batch values.</summary>
    public EvalResult Result()
    {
        if (Batches == 0) throw new MlsaeException("evaluation: no batches (the data holds no full sequence)");
        var perLayer = batches.ToDictionary(kv => kv.Key,
            kv => Enumerable.Range(0, layers.Count).Select(l => kv.Value.Average(b => b[l])).ToArray());
        double dead = SparsityMetrics.DeadFraction((IReadOnlyList<long>)selections, tokens, deadTokensThreshold);
        return new EvalResult(layers.ToArray(), tokens, Batches, perLayer, dead);
    }
}

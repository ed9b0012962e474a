using Mlsae.Distributed;
using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// The reference's <c>mlsae/analysis/variances.py</c>: how spread a latent's activation is over
/// layers for single tokens versus in aggregate. Per batch, with <c>probs = x / Σ_l x</c> (NaN → 0)
/// over the scattered raw TopK values <c>x</c> <c>[L, N, F]</c> and <c>var(p) = Σ_l l²p − (Σ_l l p)²</c>:
/// <c>exp_var_l_f = mean_F var(mean_N probs)</c>, <c>exp_var_l_tf = mean_{N,F} var(probs)</c>,
/// <c>var_l = var(mean_{N,F} probs)</c>, <c>rel_var_f = exp_var_l_f / var_l</c>,
/// <c>rel_var_t = exp_var_l_tf / exp_var_l_f</c>; each averaged over batches, so the values depend
/// on the batch size and sequence length. Tokens are processed in chunks, so memory does not grow
/// with N·F.
/// </summary>
public sealed class LayerVariances(int layers, int latents, long maxChunkElements = 1 << 25)
{
    readonly List<double[]> batches = [];
    readonly List<long> order = [];

    /// <summary>Adds one batch; <paramref name="place"/> orders it among the batches of all ranks
    /// (any increasing key, say its first sequence's index in the stream; default: after the last).
    /// // values, indices [L, B, T, K]</summary>
    public void Add(Tensor values, Tensor indices, long? place = null)
    {
        order.Add(place ?? (order.Count == 0 ? 0 : order[^1] + 1));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long k = values.shape[^1];
        var v = values.reshape(layers, -1, k).to(ScalarType.Float64);       // [L, N, K]
        var idx = indices.reshape(layers, -1, k);
        long n = v.shape[1];
        long chunk = Math.Max(1, maxChunkElements / ((long)layers * latents));
        var ell = arange(layers, ScalarType.Float64, v.device).reshape(layers, 1, 1);
        var probsSum = zeros([layers, latents], ScalarType.Float64, v.device); // Σ_N probs
        double varTfSum = 0;
        for (long start = 0; start < n; start += chunk)
        {
            using var inner = NewDisposeScope();
            long end = Math.Min(n, start + chunk);
            var x = zeros([layers, end - start, latents], ScalarType.Float64, v.device)
                .scatter_(-1, idx.narrow(1, start, end - start), v.narrow(1, start, end - start));        // [L, c, F]
            var probs = (x / x.sum(0, keepdim: true)).nan_to_num_(0.0);
            var first = (ell * probs).sum(0, keepdim: false);
            var second = (ell * ell * probs).sum(0, keepdim: false);
            varTfSum += (second - first * first).sum().item<double>();
            probsSum.add_(probs.sum(1));
        }
        var meanN = probsSum / n;                                             // [L, F]
        var layerIds = arange(layers, ScalarType.Float64, v.device).unsqueeze(1);
        var varF = (layerIds * layerIds * meanN).sum(0, keepdim: false) - (layerIds * meanN).sum(0, keepdim: false).pow(2);   // [F]
        double expVarLf = varF.mean().item<double>();
        double expVarLtf = varTfSum / (n * (double)latents);
        var meanNf = meanN.mean([1]);                                          // [L]
        var ids = arange(layers, ScalarType.Float64, v.device);
        double varL = ((ids * ids * meanNf).sum() - (ids * meanNf).sum().pow(2)).item<double>();
        batches.Add([expVarLf, expVarLtf, varL, expVarLf / varL, expVarLtf / expVarLf]);
    }

    /// <summary>Replaces every rank's batches with those of all ranks in order, so the means equal
    /// one process's over all the batches bit for bit.</summary>
    public void GatherOverRanks(Training.IDataParallel parallel)
    {
        if (parallel.Size == 1) return;
        var all = RankGather.BatchRows(parallel, order, batches);
        batches.Clear();
        order.Clear();
        foreach (var row in all) Add(row);
    }

    void Add(double[] row)
    {
        order.Add(order.Count);
        batches.Add(row);
    }

    /// <summary>Batches added.</summary>
    public int Batches => batches.Count;

    /// <summary>The batch means, by the reference's names.</summary>
    public IReadOnlyDictionary<string, double> Result()
    {
        if (batches.Count == 0) throw new MlsaeException("variances: no batches (the data holds no full sequence)");
        string[] names = ["exp_var_l_f", "exp_var_l_tf", "var_l", "rel_var_f", "rel_var_t"];
        return names.Select((name, i) => (name, value: batches.Average(b => b[i]))).ToDictionary(p => p.name, p => p.value);
    }
}

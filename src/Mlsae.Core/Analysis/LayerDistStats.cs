namespace Mlsae.Analysis;

/// <summary>
/// Per-latent statistics of a <see cref="LayerDists"/>, as the reference's <c>Dists</c>: with
/// <c>probs = totals / Σ_l totals</c>, <c>layer_mean = Σ_l l·probs</c>,
/// <c>layer_var = Σ_l l²·probs − layer_mean²</c> (exactly 0 for a latent active at one layer) and
/// <c>layer_std = √layer_var</c>; NaN (0/0) for latents that never fired. Layers are positions
/// 0..L−1 in the SAE's layer list.
/// </summary>
public sealed record LayerDistStats(double[] LayerMean, double[] LayerVar, double[] LayerStd, double[,] Probs, double[] Mean, double[,] Means)
{
    /// <summary>Derives the statistics.</summary>
    public static LayerDistStats From(LayerDists d)
    {
        int L = d.Layers, F = d.Latents;
        var layerMean = new double[F];
        var layerVar = new double[F];
        var layerStd = new double[F];
        var probs = new double[L, F];
        var mean = new double[F];
        var means = new double[L, F];
        for (int f = 0; f < F; f++)
        {
            double sum = 0, count = 0;
            for (int l = 0; l < L; l++) { sum += d.Total(l, f); count += d.Count(l, f); }
            double m1 = 0, m2 = 0;
            for (int l = 0; l < L; l++)
            {
                double p = d.Total(l, f) / sum;                 // NaN when the latent never fired (0/0)
                probs[l, f] = p;
                m1 += l * p;
                m2 += (double)l * l * p;
                means[l, f] = d.Total(l, f) / (d.Count(l, f) + 1e-8);
            }
            layerMean[f] = m1;
            layerVar[f] = m2 - m1 * m1;
            layerStd[f] = Math.Sqrt(layerVar[f]);
            mean[f] = sum / (count + 1e-8);
        }
        return new LayerDistStats(layerMean, layerVar, layerStd, probs, mean, means);
    }

    /// <summary>The reference's <c>get_stats</c> of <c>layer_std</c>: NaN-ignoring mean, population
    /// variance and std, and sem = std / √(number of latents, NaNs included).</summary>
    public (double Mean, double Var, double Std, double Sem) Summary()
    {
        var finite = LayerStd.Where(v => !double.IsNaN(v)).ToArray();
        double mean = finite.Length == 0 ? double.NaN : finite.Average();
        double variance = finite.Length == 0 ? double.NaN : finite.Sum(v => (v - mean) * (v - mean)) / finite.Length;
        double std = Math.Sqrt(variance);
        return (mean, variance, std, std / Math.Sqrt(LayerStd.Length));
    }

    /// <summary>Latents that fired at least once.</summary>
    public int ActiveLatents => LayerStd.Count(v => !double.IsNaN(v));
}

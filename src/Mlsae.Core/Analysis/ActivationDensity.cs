namespace Mlsae.Analysis;

/// <summary>
/// The bins of a latent's activation density (what sae_vis and Neuronpedia draw per latent): its
/// positive TopK values over all the data and every layer, counted in log-spaced bins so that one
/// fixed set of edges serves latents of any scale and shards merge by adding counts. Ten bins per
/// decade over 1e-3 … 1e2 (the range of TopK codes in the standardized space): 400 bytes per latent.
/// </summary>
public static class ActivationDensity
{
    /// <summary>Bins between <see cref="Log10Min"/> and <see cref="Log10Max"/>.</summary>
    public const int Bins = 50;
    /// <summary>log10 of the lowest edge; smaller positive values fall in the first bin.</summary>
    public const double Log10Min = -3;
    /// <summary>log10 of the highest edge; larger values fall in the last bin.</summary>
    public const double Log10Max = 2;

    /// <summary>The bin of a positive <paramref name="value"/>.</summary>
    public static int Bin(float value)
    {
        double position = (Math.Log10(value) - Log10Min) / (Log10Max - Log10Min) * Bins;
        return double.IsNaN(position) ? 0 : (int)Math.Clamp(Math.Floor(position), 0, Bins - 1);
    }

    /// <summary>The <see cref="Bins"/> + 1 edges, 10^Log10Min … 10^Log10Max.</summary>
    public static double[] Edges() =>
        Enumerable.Range(0, Bins + 1).Select(i => Math.Pow(10, Log10Min + (Log10Max - Log10Min) * i / Bins)).ToArray();
}

namespace Mlsae.Analysis;

/// <summary>
/// The matrix a latent heatmap draws, as the reference's <c>mlsae/analysis/heatmaps.py</c> gets it:
/// one row per layer of the SAE, one column per latent, columns whose values are all NaN (latents
/// that never fired) dropped, the rest ordered by mean layer (<see cref="HeatmapOrder"/>, ties by
/// latent index; a NaN mean layer counts as above every number, as <c>torch.sort</c> has it).
/// </summary>
/// <param name="Layers">Model layers, one per row.</param>
/// <param name="Latents">The latent of each column, in drawing order. // [A]</param>
/// <param name="MeanLayers">Each column's mean layer (position in the layer list). // [A]</param>
/// <param name="Values">The cells. // [L, A]</param>
/// <param name="Order">How the columns are ordered.</param>
/// <param name="View">What the cells show.</param>
public sealed record LatentHeatmap(int[] Layers, long[] Latents, double[] MeanLayers, double[,] Values, HeatmapOrder Order, HeatmapView View)
{
    /// <summary>The aggregate heatmap: each latent's share of its activation per layer (<c>probs</c>). // stats over [L, F]</summary>
    public static LatentHeatmap FromDists(LayerDistStats stats, int[] layers, HeatmapOrder order)
    {
        int l = layers.Length;
        var columns = Enumerable.Range(0, stats.LayerMean.Length).Where(f => Enumerable.Range(0, l).Any(r => !double.IsNaN(stats.Probs[r, f])));
        var sorted = Sort(columns, f => stats.LayerMean[f], order);
        return new LatentHeatmap(layers, sorted.Select(f => (long)f).ToArray(), sorted.Select(f => stats.LayerMean[f]).ToArray(),
            Matrix(l, sorted.Length, (r, c) => stats.Probs[r, sorted[c]]), order, HeatmapView.Probs);
    }

    /// <summary>A heatmap of given shares per layer (a crosscoder's decoder-norm share, <see cref="LayerDists.DecoderShare"/>):
    /// every latent a column, ordered by the shares' own mean layer <c>Σ_l l·share[l]</c>. // shares [L, F]</summary>
    public static LatentHeatmap FromShares(double[,] shares, int[] layers, HeatmapOrder order)
    {
        int l = layers.Length, f = shares.GetLength(1);
        if (shares.GetLength(0) != l) throw new ArgumentException($"{shares.GetLength(0)} rows of shares for {l} layers", nameof(shares));
        var meanLayer = Enumerable.Range(0, f).Select(c => Enumerable.Range(0, l).Sum(r => r * shares[r, c])).ToArray();
        var sorted = Sort(Enumerable.Range(0, f), c => meanLayer[c], order);
        return new LatentHeatmap(layers, sorted.Select(c => (long)c).ToArray(), sorted.Select(c => meanLayer[c]).ToArray(),
            Matrix(l, sorted.Length, (r, c) => shares[r, sorted[c]]), order, HeatmapView.Probs);
    }

    /// <summary>The prompt heatmap: each active latent's share per layer (<see cref="HeatmapView.Probs"/>, the
    /// reference's <c>figures/prompt_heatmaps.py</c>) or its activation summed over the tokens.</summary>
    public static LatentHeatmap FromPrompt(PromptAnalysis prompt, HeatmapView view, HeatmapOrder order)
    {
        int l = prompt.Layers.Length;
        var cells = prompt.Latents.Select(x => view == HeatmapView.Probs ? x.Probs : x.Acts).ToList();
        var columns = Enumerable.Range(0, prompt.Latents.Count).Where(c => cells[c].Any(v => !double.IsNaN(v)));
        var sorted = Sort(columns, c => prompt.Latents[c].MeanLayer, order, c => prompt.Latents[c].Index);
        return new LatentHeatmap(prompt.Layers, sorted.Select(c => prompt.Latents[c].Index).ToArray(), sorted.Select(c => prompt.Latents[c].MeanLayer).ToArray(),
            Matrix(l, sorted.Length, (r, c) => cells[sorted[c]][r]), order, view);
    }

    /// <summary>The columns by mean layer in <paramref name="order"/>, NaN above every number, ties by latent.</summary>
    static int[] Sort(IEnumerable<int> columns, Func<int, double> meanLayer, HeatmapOrder order, Func<int, long>? latent = null)
    {
        latent ??= c => c;
        return order == HeatmapOrder.Descending
            ? columns.OrderByDescending(c => double.IsNaN(meanLayer(c))).ThenByDescending(meanLayer).ThenBy(latent).ToArray()
            : columns.OrderBy(c => double.IsNaN(meanLayer(c))).ThenBy(meanLayer).ThenBy(latent).ToArray();
    }

    static double[,] Matrix(int rows, int columns, Func<int, int, double> cell)
    {
        var m = new double[rows, columns];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) m[r, c] = cell(r, c);
        return m;
    }
}

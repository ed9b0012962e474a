using Mlsae.Analysis;
using ScottPlot;

namespace Mlsae.Reports;

/// <summary>The latent heatmaps: the paper's main figure (the aggregate dists) and the prompt heatmap,
/// both drawn from a <see cref="LatentHeatmap"/> in the reference's colours (<c>magma_r</c>).</summary>
public static class HeatmapFigures
{
    /// <summary>
    /// One column per latent in the heatmap's order, one row per layer. In the reference's order
    /// (descending) layer 0 is the top row, as its <c>imshow</c> draws it, so the deepest latents sit
    /// at the bottom left; ascending puts layer 0 at the bottom, this tool's earlier view. Shares are
    /// coloured on a fixed 0–1 scale, sums on their own range.
    /// </summary>
    public static void Draw(LatentHeatmap data, string title, string path)
    {
        int l = data.Layers.Length, n = data.Latents.Length;
        if (n == 0) throw new MlsaeException("figures: no latent to plot");
        bool layerZeroOnTop = data.Order == HeatmapOrder.Descending;
        int Row(int layer) => layerZeroOnTop ? layer : l - 1 - layer;      // row 0 is drawn at the top
        var cells = new double[l, n];
        for (int layer = 0; layer < l; layer++)
            for (int c = 0; c < n; c++) cells[Row(layer), c] = data.Values[layer, c];
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(cells);
        heatmap.Colormap = ReversedColormap.MagmaR;
        if (data.View == HeatmapView.Probs) heatmap.ManualRange = new ScottPlot.Range(0, 1);
        plot.Add.ColorBar(heatmap);
        plot.Axes.Margins(0, 0);                                          // the cells fill the frame
        bool probs = data.View == HeatmapView.Probs;
        plot.Title(title + (probs ? " (colour: share of each latent's activation per layer)" : " (colour: activation summed over the prompt's tokens)"));
        plot.XLabel($"latent ({n} active, by mean layer, {(layerZeroOnTop ? "deepest first" : "shallowest first")})");
        plot.YLabel("layer");
        // A cell's centre sits at y = rows − 1 − row.
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, l).Select(layer => (double)(l - 1 - Row(layer))).ToArray(), data.Layers.Select(x => x.ToString()).ToArray());
        Figures.Save(plot, path);
    }
}

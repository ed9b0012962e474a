using Mlsae.Analysis;
using ScottPlot;

namespace Mlsae.Reports;

/// <summary>The reference's other dists figures: the mean-layer density histograms, the mean-layer
/// difference against decoder cosine similarity, and the layer_std statistics over steps and over SAEs.</summary>
public static class DistsFigures
{
    /// <summary><c>figures/dists_histograms.py</c>: the density per bin as bars.</summary>
    public static void MeanLayerHistogram(MeanLayerHistogram histogram, string title, string path)
    {
        var plot = new Plot();
        int bins = histogram.Counts.Length;
        var centres = Enumerable.Range(0, bins).Select(b => (histogram.Edges[b] + histogram.Edges[b + 1]) / 2).ToArray();
        var bars = plot.Add.Bars(centres, histogram.Density.Select(d => double.IsNaN(d) ? 0 : d).ToArray());
        foreach (var bar in bars.Bars)
        {
            bar.Size = (histogram.Edges[1] - histogram.Edges[0]) * 0.9;
            bar.LineWidth = 0;
        }
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.XLabel(histogram.NonInteger ? "distance of the mean layer from the nearest layer, |mean − round(mean)|" : "mean layer (position in the SAE's layer list)");
        plot.YLabel($"density ({histogram.Counts.Sum()} latents, {bins} bins)");
        Figures.Save(plot, path);
    }

    /// <summary>
    /// <c>figures/dists_cos_sim_heatmaps.py</c>: pairs per (|Δ mean layer|, cosine similarity) bin, on
    /// a log scale (log10(1 + count)) so the bins far from the mode stay visible.
    /// </summary>
    public static void CosSim(DistsCosSim result, string title, string path)
    {
        int xBins = result.XEdges.Length - 1, yBins = result.YEdges.Length - 1;
        var cells = new double[yBins, xBins];                                       // row 0 at the top: the largest similarity
        for (int i = 0; i < xBins; i++)
            for (int j = 0; j < yBins; j++) cells[yBins - 1 - j, i] = Math.Log10(1 + result.Counts[i, j]);
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(cells);
        heatmap.Colormap = ReversedColormap.MagmaR;
        heatmap.Rectangle = new CoordinateRect(result.XEdges[0], result.XEdges[^1], result.YEdges[0], result.YEdges[^1]);
        plot.Add.ColorBar(heatmap).Label = "log10(1 + pairs)";
        plot.Axes.SetLimits(result.XEdges[0], result.XEdges[^1], result.YEdges[0], result.YEdges[^1]);
        plot.Title($"{title} ({result.PairsInRange:N0} of {result.Pairs:N0} pairs in range)");
        plot.XLabel("|difference of mean layers| of a pair of latents");
        plot.YLabel("cosine similarity of their decoder vectors");
        Figures.Save(plot, path);
    }

    /// <summary>The layer-std convergence CSV's figure: mean layer_std ± its sem against tokens read.</summary>
    public static void LayerStdSteps(LayerStdConvergence convergence, string title, string path)
    {
        var rows = convergence.Rows;
        if (rows.Count == 0) throw new MlsaeException("figures: no layer_std step was logged");
        var xs = rows.Select(r => (double)r.Tokens).ToArray();
        var ys = rows.Select(r => r.Mean).ToArray();
        var plot = new Plot();
        plot.Add.Scatter(xs, ys);
        plot.Add.ErrorBar(xs, ys, rows.Select(r => double.IsNaN(r.Sem) ? 0 : r.Sem).ToArray());
        plot.Title(title);
        plot.XLabel($"tokens read (a point every {convergence.Every} batches)");
        plot.YLabel("mean layer_std of the latents (± sem)");
        Figures.Save(plot, path, 900, 500);
    }

    /// <summary><c>figures/dists_layer_std.py</c>'s table as a figure: per SAE, mean layer_std / L ± sem / L.</summary>
    public static void LayerStdTable(IReadOnlyList<LayerStdRow> rows, string path)
    {
        if (rows.Count == 0) throw new MlsaeException("figures: no SAE to plot");
        var xs = Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray();
        var plot = new Plot();
        var bars = plot.Add.Bars(xs, rows.Select(r => double.IsNaN(r.MeanRel) ? 0 : r.MeanRel).ToArray());
        plot.Add.ErrorBar(xs, rows.Select(r => double.IsNaN(r.MeanRel) ? 0 : r.MeanRel).ToArray(), rows.Select(r => double.IsNaN(r.SemRel) ? 0 : r.SemRel).ToArray());
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, rows.Select(Label).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Title("Latents' spread over layers by SAE (layer_std / number of layers)");
        plot.XLabel("SAE");
        plot.YLabel("mean layer_std / L (± sem / L)");
        Figures.Save(plot, path, 900, 500);
    }

    /// <summary>An SAE's tick label: x&lt;expansion&gt; k&lt;k&gt; when recorded, over its dists file and
    /// that file's folder (two SAEs of one shape stay apart).</summary>
    static string Label(LayerStdRow row)
    {
        var full = Path.GetFullPath(row.Source);
        var file = Path.Combine(Path.GetFileName(Path.GetDirectoryName(full)) ?? "", Path.GetFileNameWithoutExtension(full));
        return row.ExpansionFactor.Length > 0 && row.K.Length > 0 ? $"x{row.ExpansionFactor} k{row.K}\n{file}" : file;
    }
}

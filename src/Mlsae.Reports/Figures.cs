using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.IO;
using ScottPlot;

namespace Mlsae.Reports;

/// <summary>PNG figures of the analyses (ScottPlot), each with a title naming the model and SAE,
/// axis labels and, for heatmaps, a colour bar. Files are written atomically.</summary>
public static class Figures
{
    /// <summary>Width of the heatmaps and the histogram, in pixels.</summary>
    public const int Width = 1200;

    /// <summary>Height of the heatmaps and the histogram, in pixels.</summary>
    public const int Height = 600;

    static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        var bytes = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>The paper's main figure: each active latent's activation distribution over layers
    /// (probs = share of its total activation at each layer), latents sorted by mean layer.</summary>
    public static void DistsHeatmap(LayerDistStats stats, IReadOnlyList<int> layers, string title, string path)
    {
        var active = Enumerable.Range(0, stats.LayerMean.Length).Where(f => !double.IsNaN(stats.LayerMean[f]))
            .OrderBy(f => stats.LayerMean[f]).ThenBy(f => f).ToArray();
        if (active.Length == 0) throw new MlsaeException("figures: no latent fired, nothing to plot");
        int l = layers.Count;
        var data = new double[l, active.Length];
        for (int row = 0; row < l; row++)
            for (int c = 0; c < active.Length; c++)
                data[l - 1 - row, c] = stats.Probs[row, active[c]];   // first layer at the bottom
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(data);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        plot.Add.ColorBar(heatmap);
        plot.Title(title + " (colour: share of each latent's activation)");
        plot.XLabel($"latent ({active.Length} active, sorted by mean layer)");
        plot.YLabel("layer");
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, l).Select(i => (double)i).ToArray(), layers.Select(x => x.ToString()).ToArray());
        Save(plot, path);
    }

    /// <summary>Histogram of the active latents' mean layer.</summary>
    public static void LayerMeanHistogram(LayerDistStats stats, IReadOnlyList<int> layers, string title, string path)
    {
        var means = stats.LayerMean.Where(v => !double.IsNaN(v)).ToArray();
        int bins = Math.Max(4, layers.Count * 4);
        double max = Math.Max(1, layers.Count - 1);
        var counts = new double[bins];
        // Raw TopK values may be negative, so a latent's mean layer can fall outside [0, L − 1]: the end bins take it.
        foreach (var m in means) counts[Math.Clamp((int)Math.Floor(m / max * bins), 0, bins - 1)]++;
        var plot = new Plot();
        var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(b => (b + 0.5) * max / bins).ToArray(), counts);
        foreach (var bar in bars.Bars) bar.Size = max / bins * 0.9;
        plot.Title(title);
        plot.XLabel("mean layer (position in the SAE's layer list)");
        plot.YLabel("latents");
        Save(plot, path);
    }

    /// <summary>One bar per layer of an evaluation metric.</summary>
    public static void LayerBars(EvalResult result, string metric, string label, string title, string path)
    {
        var plot = new Plot();
        var values = result.PerLayer[metric];
        plot.Add.Bars(Enumerable.Range(0, values.Length).Select(i => (double)i).ToArray(), values);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, values.Length).Select(i => (double)i).ToArray(), result.Layers.Select(x => x.ToString()).ToArray());
        plot.Title(title);
        plot.XLabel("layer");
        plot.YLabel(label);
        Save(plot, path, 900, 500);
    }

    /// <summary>Mean cosine similarity of adjacent layers' centred residual vectors, with ± std bars.</summary>
    public static void CosineByLayer(IReadOnlyList<(double Mean, double Var, double Std, double Sem)> stats, IReadOnlyList<int> layers, string title, string path)
    {
        var plot = new Plot();
        var xs = Enumerable.Range(0, stats.Count).Select(i => (double)i).ToArray();
        var ys = stats.Select(s => s.Mean).ToArray();
        plot.Add.Scatter(xs, ys);
        plot.Add.ErrorBar(xs, ys, stats.Select(s => s.Std).ToArray());
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs,
            Enumerable.Range(0, stats.Count).Select(i => $"{layers[i]}→{layers[i + 1]}").ToArray());
        plot.Title(title);
        plot.XLabel("adjacent layers");
        plot.YLabel("cosine similarity (centred)");
        Save(plot, path, 900, 500);
    }

    /// <summary>One prompt: each active latent's activation (summed over the prompt's tokens) by layer.</summary>
    public static void PromptHeatmap(double[,] activations, IReadOnlyList<int> layers, string title, string path)
    {
        int l = layers.Count, n = activations.GetLength(1);
        if (n == 0) throw new MlsaeException("figures: no latent is active on this prompt");
        var data = new double[l, n];
        for (int row = 0; row < l; row++)
            for (int c = 0; c < n; c++) data[l - 1 - row, c] = activations[row, c];
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(data);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        plot.Title(title + " (colour: activation summed over the prompt)");
        plot.XLabel($"latent ({n} active, sorted by mean layer)");
        plot.YLabel("layer");
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, l).Select(i => (double)i).ToArray(), layers.Select(x => x.ToString()).ToArray());
        Save(plot, path);
    }
}

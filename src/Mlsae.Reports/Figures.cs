using Mlsae.Evaluation;
using Mlsae.IO;
using ScottPlot;

namespace Mlsae.Reports;

/// <summary>PNG figures of the analyses (ScottPlot), each with a title naming the model and SAE,
/// axis labels and, for heatmaps, a colour bar. Files are written atomically. The latent heatmaps
/// are in <see cref="HeatmapFigures"/>, the dists histograms in <see cref="DistsFigures"/>.</summary>
public static class Figures
{
    /// <summary>Width of the heatmaps and the histogram, in pixels.</summary>
    public const int Width = 1200;

    /// <summary>Height of the heatmaps and the histogram, in pixels.</summary>
    public const int Height = 600;

    /// <summary>Renders <paramref name="plot"/> as a PNG at <paramref name="path"/>, atomically.</summary>
    internal static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        var bytes = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(path, s => s.Write(bytes));
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
}

using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.Runs;

namespace Mlsae.Reports;

/// <summary>
/// The figures of a run folder's typed results, each written beside the result it draws: the
/// distribution of latents over layers and the histograms of their mean layer from the dists, the
/// prompt heatmap from prompt.json, and bars by layer from eval.json.
/// </summary>
public static class RunFigures
{
    /// <summary>The evaluation metrics drawn as bars, with their axis labels.</summary>
    static readonly (string Metric, string Label)[] EvalBars = [("fvu", "FVU"), ("l0", "L0"), ("delta_ce_loss", "ΔCE loss")];

    /// <summary>Draws every figure the results in the run folder <paramref name="dir"/> allow; returns the files written.
    /// The dists figures come from <paramref name="dists"/> when given (e.g. pulled from the hub), else from the run's own file,
    /// and go into the run folder either way.</summary>
    public static IReadOnlyList<string> Draw(string dir, string? dists = null)
    {
        Run.Open(dir);
        var written = new List<string>();
        var distsPath = dists ?? Path.Combine(dir, Run.DistsFile);
        if (File.Exists(distsPath))
        {
            var (loaded, metadata) = LayerDists.Load(distsPath);
            written.AddRange(Dists(loaded, metadata, Path.Combine(dir, Run.DistsFile)));
        }
        var prompt = Path.Combine(dir, Run.PromptFile);
        if (File.Exists(prompt) && Prompt(PromptAnalysis.Load(prompt), prompt) is string png) written.Add(png);
        var eval = Path.Combine(dir, Run.EvalFile);
        if (File.Exists(eval)) written.AddRange(Eval(EvalResult.Load(eval), Run.Open(dir).Options.Model.Name, dir));
        return written;
    }

    /// <summary>The dists figures of the dists file at <paramref name="path"/>, read from it.</summary>
    public static IReadOnlyList<string> Dists(string path, HeatmapOrder order = HeatmapOrder.Descending)
    {
        var (dists, metadata) = LayerDists.Load(path);
        return Dists(dists, metadata, path, order);
    }

    /// <summary>
    /// Beside the dists file <paramref name="path"/>, titled with the model and SAE of
    /// <paramref name="metadata"/>: <c>&lt;stem&gt;_heatmap.png</c> (latents in <paramref name="order"/>
    /// of mean layer), and <c>&lt;stem&gt;_histogram.png</c> and <c>&lt;stem&gt;_histogram_noninteger.png</c>
    /// (the reference's <c>dists_histograms</c>, whose CSVs <see cref="DistsFiles.Save"/> writes), and for a
    /// crosscoder's dists <c>&lt;stem&gt;_decoder_share_heatmap.png</c> (each latent's decoder-norm share per
    /// layer); none when no latent fired. Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> Dists(LayerDists dists, IReadOnlyDictionary<string, string> metadata, string path, HeatmapOrder order = HeatmapOrder.Descending)
    {
        var stats = dists.Stats();
        if (stats.ActiveLatents == 0) return [];
        var layers = Layers(metadata, dists.Layers, path);
        var name = Name(metadata);
        var stem = DistsFiles.Stem(path);
        HeatmapFigures.Draw(LatentHeatmap.FromDists(stats, layers, order), $"Latent activation over layers — {name}", stem + "_heatmap.png");
        DistsFigures.MeanLayerHistogram(MeanLayerHistogram.From(stats, dists.Layers, nonInteger: false), $"Mean layer of latents — {name}", DistsFiles.HistogramPath(path, false) + ".png");
        DistsFigures.MeanLayerHistogram(MeanLayerHistogram.From(stats, dists.Layers, nonInteger: true), $"Distance of latents' mean layer from a layer — {name}", DistsFiles.HistogramPath(path, true) + ".png");
        List<string> written = [stem + "_heatmap.png", DistsFiles.HistogramPath(path, false) + ".png", DistsFiles.HistogramPath(path, true) + ".png"];
        if (dists.DecoderShare is { } share)
        {
            // A crosscoder: beside the data's share of each latent's reconstruction, its decoder's.
            HeatmapFigures.Draw(LatentHeatmap.FromShares(share, layers, order), $"Decoder-norm share over layers — {name}", stem + "_decoder_share_heatmap.png");
            written.Add(stem + "_decoder_share_heatmap.png");
        }
        return written;
    }

    /// <summary>"model / SAE folder name" from a result's metadata, for titles.</summary>
    public static string Name(IReadOnlyDictionary<string, string> metadata) =>
        $"{metadata.GetValueOrDefault("model", "")} / {Path.GetFileName(metadata.GetValueOrDefault("sae", "").TrimEnd('/'))}";

    /// <summary>The prompt heatmap beside <paramref name="path"/> (its extension replaced by .png), showing
    /// <paramref name="view"/> with latents in <paramref name="order"/>; none when no latent is active.
    /// Returns the file written or null.</summary>
    public static string? Prompt(PromptAnalysis analysis, string path, HeatmapView view = HeatmapView.Probs, HeatmapOrder order = HeatmapOrder.Descending)
    {
        if (analysis.Latents.Count == 0) return null;
        var png = Path.ChangeExtension(path, ".png");
        HeatmapFigures.Draw(LatentHeatmap.FromPrompt(analysis, view, order), $"Prompt latents over layers — {analysis.Model}", png);
        return png;
    }

    /// <summary><c>eval_&lt;metric&gt;.png</c> in <paramref name="dir"/> for FVU, L0 and ΔCE loss, those
    /// <paramref name="result"/> holds, titled with <paramref name="model"/>. Returns the files written.</summary>
    public static IReadOnlyList<string> Eval(EvalResult result, string model, string dir)
    {
        var written = new List<string>();
        foreach (var (metric, label) in EvalBars.Where(m => result.PerLayer.ContainsKey(m.Metric)))
        {
            var png = Path.Combine(dir, $"eval_{metric}.png");
            Figures.LayerBars(result, metric, label, $"{label} by layer — {model}", png);
            written.Add(png);
        }
        return written;
    }

    /// <summary>The model layers recorded in the metadata (positions 0..L−1 when absent).</summary>
    internal static int[] Layers(IReadOnlyDictionary<string, string> metadata, int count, string path)
    {
        if (!metadata.TryGetValue("layers", out var text) || text.Length == 0) return Enumerable.Range(0, count).ToArray();
        var parts = text.Split(',');
        var layers = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], System.Globalization.CultureInfo.InvariantCulture, out layers[i]))
                throw new MlsaeException($"{path}: metadata 'layers' must be comma-separated integers, got '{text}'");
        if (layers.Length != count) throw new MlsaeException($"{path}: metadata 'layers' names {layers.Length} layers but the dists have {count}");
        return layers;
    }
}

using System.Globalization;
using System.Text;
using Mlsae.IO;

namespace Mlsae.Analysis;

/// <summary>
/// The files of one dists result, named after its safetensors path <c>&lt;stem&gt;.safetensors</c>:
/// the tensors (<see cref="LayerDists.Save"/>), the JSON summary <c>&lt;stem&gt;.json</c>
/// (<see cref="DistsSummary"/>), one CSV row per latent <c>&lt;stem&gt;.csv</c>, the mean-layer
/// histograms <c>&lt;stem&gt;_histogram.csv</c> and <c>&lt;stem&gt;_histogram_noninteger.csv</c>
/// (<see cref="MeanLayerHistogram"/>) and, from <c>dists</c> itself, <c>&lt;stem&gt;_layer_std_step.csv</c>
/// (<see cref="LayerStdConvergence"/>).
/// </summary>
public static class DistsFiles
{
    /// <summary>The path without its extension, made absolute: what the files beside it are named after.</summary>
    public static string Stem(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path));

    /// <summary>The JSON summary beside <paramref name="path"/>.</summary>
    public static string SummaryPath(string path) => Stem(path) + ".json";

    /// <summary>The per-latent CSV beside <paramref name="path"/>.</summary>
    public static string CsvPath(string path) => Stem(path) + ".csv";

    /// <summary>The mean-layer histogram beside <paramref name="path"/>, without extension:
    /// <c>&lt;stem&gt;_histogram</c>, or <c>&lt;stem&gt;_histogram_noninteger</c> (the reference's
    /// <c>dists_histogram_*</c> and <c>dists_histogram_noninteger_*</c>).</summary>
    public static string HistogramPath(string path, bool nonInteger) => Stem(path) + (nonInteger ? "_histogram_noninteger" : "_histogram");

    /// <summary>The layer-std convergence table beside <paramref name="path"/> (the reference's <c>dists_layer_std_step_*.csv</c>).</summary>
    public static string LayerStdStepPath(string path) => Stem(path) + "_layer_std_step.csv";

    /// <summary>Writes the safetensors file at <paramref name="path"/> and beside it the JSON, the
    /// per-latent CSV and both mean-layer histogram CSVs; returns the summary.</summary>
    public static DistsSummary Save(LayerDists dists, IReadOnlyDictionary<string, string> metadata, string path)
    {
        dists.Save(path, metadata);
        var summary = DistsSummary.From(dists, metadata);
        summary.Save(SummaryPath(path));
        SaveCsv(dists, CsvPath(path));
        var stats = dists.Stats();
        foreach (var nonInteger in new[] { false, true })
            MeanLayerHistogram.From(stats, dists.Layers, nonInteger).SaveCsv(HistogramPath(path, nonInteger) + ".csv");
        return summary;
    }

    /// <summary>One row per latent: <c>latent,count,total,layer_mean,layer_var,layer_std</c>, the
    /// count and total summed over layers, every double in round-trip form; for a crosscoder also
    /// <c>decoder_norm_share_i</c> per layer position i.</summary>
    static void SaveCsv(LayerDists dists, string path)
    {
        var stats = dists.Stats();
        var share = dists.DecoderShare;
        var csv = new StringBuilder("latent,count,total,layer_mean,layer_var,layer_std");
        if (share is not null) for (int l = 0; l < dists.Layers; l++) csv.Append(CultureInfo.InvariantCulture, $",decoder_norm_share_{l}");
        csv.Append('\n');
        for (int f = 0; f < dists.Latents; f++)
        {
            long count = 0;
            double total = 0;
            for (int l = 0; l < dists.Layers; l++) { count += dists.Count(l, f); total += dists.Total(l, f); }
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{f},{count},{total:R},{stats.LayerMean[f]:R},{stats.LayerVar[f]:R},{stats.LayerStd[f]:R}"));
            if (share is not null) for (int l = 0; l < dists.Layers; l++) csv.Append(CultureInfo.InvariantCulture, $",{share[l, f]:R}");
            csv.Append('\n');
        }
        AtomicFile.WriteText(path, csv.ToString());
    }
}

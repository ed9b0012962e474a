using System.Globalization;
using System.Text;
using Mlsae.IO;

namespace Mlsae.Analysis;

/// <summary>
/// The files of one dists result, named after its safetensors path <c>&lt;stem&gt;.safetensors</c>:
/// the tensors (<see cref="LayerDists.Save"/>), the JSON summary <c>&lt;stem&gt;.json</c>
/// (<see cref="DistsSummary"/>) and one CSV row per latent <c>&lt;stem&gt;.csv</c>.
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

    /// <summary>Writes the safetensors file at <paramref name="path"/> and the JSON and CSV beside it; returns the summary.</summary>
    public static DistsSummary Save(LayerDists dists, IReadOnlyDictionary<string, string> metadata, string path)
    {
        dists.Save(path, metadata);
        var summary = DistsSummary.From(dists, metadata);
        summary.Save(SummaryPath(path));
        SaveCsv(dists, CsvPath(path));
        return summary;
    }

    /// <summary>One row per latent: <c>latent,count,total,layer_mean,layer_var,layer_std</c>, the
    /// count and total summed over layers, every double in round-trip form.</summary>
    static void SaveCsv(LayerDists dists, string path)
    {
        var stats = dists.Stats();
        var csv = new StringBuilder("latent,count,total,layer_mean,layer_var,layer_std\n");
        for (int f = 0; f < dists.Latents; f++)
        {
            long count = 0;
            double total = 0;
            for (int l = 0; l < dists.Layers; l++) { count += dists.Count(l, f); total += dists.Total(l, f); }
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{f},{count},{total:R},{stats.LayerMean[f]:R},{stats.LayerVar[f]:R},{stats.LayerStd[f]:R}\n"));
        }
        AtomicFile.WriteText(path, csv.ToString());
    }
}

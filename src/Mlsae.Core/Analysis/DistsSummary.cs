using System.Text.Json.Nodes;
using Mlsae.IO;

namespace Mlsae.Analysis;

/// <summary>
/// The JSON summary written beside a dists file (<c>&lt;stem&gt;.json</c>, see <see cref="DistsFiles"/>):
/// how many latents fired and the reference's <c>get_stats</c> of their <c>layer_std</c>
/// (<see cref="LayerDistStats.Summary"/>), with the run's metadata. Non-finite statistics are
/// written as null and read back as NaN.
/// </summary>
/// <param name="Tokens">Token positions the dists cover (<c>tokens</c>).</param>
/// <param name="Layers">The model layers as written in the metadata, e.g. <c>0,1,2</c> (<c>layers</c>; empty when not recorded).</param>
/// <param name="NLatents">Latents of the SAE (<c>n_latents</c>).</param>
/// <param name="ActiveLatents">Latents that fired at least once (<c>active_latents</c>).</param>
/// <param name="LayerStdMean">NaN-ignoring mean of the latents' layer_std (<c>layer_std.mean</c>).</param>
/// <param name="LayerStdVar">Its population variance (<c>layer_std.var</c>).</param>
/// <param name="LayerStdStd">Its standard deviation (<c>layer_std.std</c>).</param>
/// <param name="LayerStdSem">Its standard error over all latents (<c>layer_std.sem</c>).</param>
/// <param name="Metadata">The other string entries (model, sae, data, max_length, batch_size, shard, …), written after the fields above.</param>
public sealed record DistsSummary(long Tokens, string Layers, int NLatents, int ActiveLatents,
    double LayerStdMean, double LayerStdVar, double LayerStdStd, double LayerStdSem, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The line the dists commands and train print: what was written at <paramref name="path"/>
    /// and beside it, with the counts and layer_std statistics.</summary>
    public string Describe(string path, bool figures) =>
        $"wrote {path} (+ .json, .csv, _histogram.csv, _histogram_noninteger.csv{(figures ? ", _heatmap.png, _histogram.png, _histogram_noninteger.png" : "")}): {Tokens:N0} tokens, {ActiveLatents}/{NLatents} latents active; "
        + $"layer_std mean {Evaluation.EvalSummary.Format(LayerStdMean)}, std {Evaluation.EvalSummary.Format(LayerStdStd)}, sem {Evaluation.EvalSummary.Format(LayerStdSem)}";

    static readonly string[] Fields = ["tokens", "layers", "n_latents", "active_latents", "layer_std"];

    /// <summary>The summary of <paramref name="dists"/> with the metadata it is saved with.</summary>
    public static DistsSummary From(LayerDists dists, IReadOnlyDictionary<string, string> metadata)
    {
        var stats = dists.Stats();
        var (mean, variance, std, sem) = stats.Summary();
        return new DistsSummary(dists.Tokens, metadata.GetValueOrDefault("layers", ""), dists.Latents, stats.ActiveLatents, mean, variance, std, sem,
            metadata.Where(kv => !Fields.Contains(kv.Key)).ToDictionary());
    }

    /// <summary>Writes the summary atomically.</summary>
    public void Save(string path)
    {
        var json = new JsonObject
        {
            ["tokens"] = Tokens, ["layers"] = Layers, ["n_latents"] = NLatents, ["active_latents"] = ActiveLatents,
            ["layer_std"] = new JsonObject
            {
                ["mean"] = JsonNumbers.Of(LayerStdMean), ["var"] = JsonNumbers.Of(LayerStdVar), ["std"] = JsonNumbers.Of(LayerStdStd), ["sem"] = JsonNumbers.Of(LayerStdSem),
            },
        };
        foreach (var (k, v) in Metadata) json[k] ??= v;
        ResultJson.Write(path, json);
    }

    /// <summary>Reads a file written by <see cref="Save"/>. A file of the wrong shape is an
    /// <see cref="MlsaeException"/> naming the file and the field.</summary>
    public static DistsSummary Load(string path)
    {
        var json = ResultJson.Read(path);
        var std = json.Object("layer_std");
        var metadata = json.Json.Where(kv => !Fields.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => json.String(kv.Key));
        return new DistsSummary(json.Long("tokens"), json.String("layers"), json.Int("n_latents"), json.Int("active_latents"),
            std.DoubleOrNaN("mean"), std.DoubleOrNaN("var"), std.DoubleOrNaN("std"), std.DoubleOrNaN("sem"), metadata);
    }
}

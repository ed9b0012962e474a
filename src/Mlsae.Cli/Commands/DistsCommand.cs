using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.IO;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae dists</c>: latent activation distributions over layers, and <c>dists merge</c> for shards.</summary>
public static class DistsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions();
        var output = new Option<string>("--out") { Description = "Output safetensors (JSON/CSV summaries and PNG figures are written beside it)", Required = true };
        var noFigures = new Option<bool>("--no-figures") { Description = "Skip the PNG figures" };
        var command = new Command("dists", "Counts and totals [L, F] of each latent's TopK activations per layer; mean/var/std of its layer") { output, noFigures };
        analysis.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            using var session = analysis.Open(parse, console);
            var dists = Compute(session, console);
            Write(dists, session.Metadata(), parse.GetValue(output)!, !parse.GetValue(noFigures), console);
            return 0;
        }));
        command.Subcommands.Add(Merge(console));
        return command;
    }

    internal static LayerDists Compute(AnalysisOptions.Session session, CliConsole console)
    {
        var sae = session.Autoencoder;
        var dists = new LayerDists(session.Context.Layers.Length, sae.NLatents);
        session.Encode("dists", console, (_, output) => dists.Add(output.TopKRaw, output.TopK.Indices));
        if (dists.Tokens == 0) throw new MlsaeException("dists: no data (the source holds no full sequence)");
        return dists;
    }

    internal static void Write(LayerDists dists, Dictionary<string, string> metadata, string path, bool figures, CliConsole console)
    {
        dists.Save(path, metadata);
        var stats = dists.Stats();
        var (mean, variance, std, sem) = stats.Summary();
        var stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path));
        var summary = new JsonObject
        {
            ["tokens"] = dists.Tokens, ["layers"] = metadata.GetValueOrDefault("layers", ""), ["n_latents"] = dists.Latents,
            ["active_latents"] = stats.ActiveLatents,
            ["layer_std"] = new JsonObject { ["mean"] = JsonNumbers.Of(mean), ["var"] = JsonNumbers.Of(variance), ["std"] = JsonNumbers.Of(std), ["sem"] = JsonNumbers.Of(sem) },
        };
        foreach (var (k, v) in metadata) summary[k] ??= v;
        AtomicFile.WriteText(stem + ".json", summary.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        var csv = new StringBuilder("latent,count,total,layer_mean,layer_var,layer_std\n");
        for (int f = 0; f < dists.Latents; f++)
        {
            long count = 0; double total = 0;
            for (int l = 0; l < dists.Layers; l++) { count += dists.Count(l, f); total += dists.Total(l, f); }
            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{f},{count},{total:R},{stats.LayerMean[f]:R},{stats.LayerVar[f]:R},{stats.LayerStd[f]:R}\n"));
        }
        AtomicFile.WriteText(stem + ".csv", csv.ToString());
        var layers = metadata.TryGetValue("layers", out var ls) && ls.Length > 0 ? ls.Split(',').Select(int.Parse).ToArray() : Enumerable.Range(0, dists.Layers).ToArray();
        var name = $"{metadata.GetValueOrDefault("model", "")} / {Path.GetFileName(metadata.GetValueOrDefault("sae", "").TrimEnd('/'))}";
        if (figures && stats.ActiveLatents > 0)
        {
            Figures.Figures.DistsHeatmap(stats, layers, $"Latent activation over layers — {name}", stem + "_heatmap.png");
            Figures.Figures.LayerMeanHistogram(stats, layers, $"Mean layer of latents — {name}", stem + "_layer_mean.png");
        }
        console.Out.WriteLine($"wrote {path} (+ .json, .csv{(figures ? ", _heatmap.png, _layer_mean.png" : "")}): {dists.Tokens:N0} tokens, {stats.ActiveLatents}/{dists.Latents} latents active; "
            + $"layer_std mean {EvalSummary.Format(mean)}, std {EvalSummary.Format(std)}, sem {EvalSummary.Format(sem)}");
    }

    static Command Merge(CliConsole console)
    {
        var inputs = new Argument<string[]>("inputs") { Description = "dists files of disjoint shards", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out") { Description = "Merged safetensors", Required = true };
        var noFigures = new Option<bool>("--no-figures") { Description = "Skip the PNG figures" };
        var command = new Command("merge", "Merge dists of shards into exactly the file one run over all the data writes") { inputs, output, noFigures };
        command.SetAction(parse => console.Guard(() =>
        {
            var files = parse.GetValue(inputs)!;
            var (merged, metadata) = LayerDists.Load(files[0]);
            var meta = metadata.Where(kv => kv.Key is not ("tokens" or "fraction_bits")).ToDictionary();
            var shards = new List<string> { meta.GetValueOrDefault("shard", "0/1") };
            foreach (var file in files.Skip(1))
            {
                var (next, m) = LayerDists.Load(file);
                foreach (var key in new[] { "model", "sae", "layers", "max_length", "batch_size" })
                    if (m.GetValueOrDefault(key) != meta.GetValueOrDefault(key))
                        throw new MlsaeException($"{file}: {key} '{m.GetValueOrDefault(key)}' differs from {files[0]}'s '{meta.GetValueOrDefault(key)}'");
                merged.Merge(next);
                shards.Add(m.GetValueOrDefault("shard", "0/1"));
            }
            var counts = shards.Select(s => s.Split('/')[1]).Distinct().ToList();
            meta["shard"] = counts.Count == 1 && shards.Distinct().Count() == int.Parse(counts[0]) ? "0/1" : string.Join("+", shards);
            Write(merged, meta, parse.GetValue(output)!, !parse.GetValue(noFigures), console);
            return 0;
        }));
        return command;
    }
}

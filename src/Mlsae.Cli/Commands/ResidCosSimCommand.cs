using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.IO;
using Mlsae.Reports;
using static TorchSharp.torch;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae resid-cos-sim</c>: residual-stream norms per layer and adjacent-layer cosine similarity.</summary>
public static class ResidCosSimCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions(needsSae: false);
        var output = new Option<string>("--out") { Description = "Output JSON (a CSV and a PNG are written beside it)", Required = true };
        var command = new Command("resid-cos-sim", "Per-layer L2 norms and the cosine similarity of adjacent layers' centred residual vectors (two passes)") { output };
        analysis.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            using var session = analysis.Open(parse, console);
            var layers = session.Model.Layers;
            var cos = new ResidualCosineSimilarity(layers.Length, session.Model.Model.Config.HiddenSize);
            long total = session.MaxBatches * session.Data.BatchSize * session.Data.MaxLength;
            foreach (var pass in new[] { 1, 2 })
                console.Progress($"resid-cos-sim pass {pass}", total, "tokens", done =>
                {
                    long seen = 0;
                    foreach (var batch in session.Batches())
                    {
                        using var scope = NewDisposeScope();
                        var hidden = session.Stream.Forward(session.Stream.Tokens(batch.Sequences));
                        if (pass == 1) cos.AddFirstPass(hidden); else cos.AddSecondPass(hidden);
                        seen += batch.Tokens;
                        done(seen);
                    }
                    return seen;
                });
            var path = parse.GetValue(output)!;
            static JsonObject Stat((double Mean, double Var, double Std, double Sem) s) => new() { ["mean"] = JsonNumbers.Of(s.Mean), ["var"] = JsonNumbers.Of(s.Var), ["std"] = JsonNumbers.Of(s.Std), ["sem"] = JsonNumbers.Of(s.Sem) };
            var json = new JsonObject
            {
                ["layers"] = new JsonArray(layers.Select(l => (JsonNode?)l).ToArray()),
                ["l2_norm"] = new JsonArray(cos.NormStats.Select(s => (JsonNode?)Stat(s)).ToArray()),
                ["cos_sim"] = new JsonArray(cos.CosineStats.Select(s => (JsonNode?)Stat(s)).ToArray()),
            };
            foreach (var (k, v) in session.Metadata()) json[k] = v;
            AtomicFile.WriteText(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
            var csv = new StringBuilder("start_at_layer,end_layer,cos_sim_mean,cos_sim_var,cos_sim_std,cos_sim_sem\n");
            for (int i = 0; i < cos.CosineStats.Count; i++)
            {
                var s = cos.CosineStats[i];
                csv.Append(string.Create(CultureInfo.InvariantCulture, $"{layers[i]},{layers[i + 1]},{s.Mean:R},{s.Var:R},{s.Std:R},{s.Sem:R}\n"));
            }
            var stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path));
            AtomicFile.WriteText(stem + ".csv", csv.ToString());
            if (cos.CosineStats.Count > 0)
                Figures.CosineByLayer(cos.CosineStats, layers, $"Adjacent-layer cosine similarity — {session.Model.Name}", stem + ".png");
            foreach (var (s, i) in cos.CosineStats.Select((s, i) => (s, i)))
                console.Out.WriteLine($"layers {layers[i]}→{layers[i + 1]}: cos sim {EvalSummary.Format(s.Mean)} ± {EvalSummary.Format(s.Std)} (sem {EvalSummary.Format(s.Sem)})");
            return 0;
        }));
        return command;
    }
}

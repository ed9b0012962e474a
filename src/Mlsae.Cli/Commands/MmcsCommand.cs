using System.CommandLine;
using System.Text.Json.Nodes;
using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.IO;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae mmcs</c>: mean max cosine similarity between the decoder's latent vectors.</summary>
public static class MmcsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var sae = new SaeOptions();
        var output = new Option<string?>("--out") { Description = "Output JSON with the per-latent max cosine similarity" };
        var command = new Command("mmcs", "Mean max cosine similarity between decoder latent vectors (chunked, bounded memory)") { output };
        sae.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            using var resolved = sae.Load(parse, console, TorchSharp.torch.CPU);
            var max = Mmcs.MaxCosine(resolved.AsMlsae("mmcs").Decoder);
            double mean = max.Average();
            if (parse.GetValue(output) is string path)
                AtomicFile.WriteText(path, new JsonObject
                {
                    ["sae"] = resolved.Folder, ["n_latents"] = max.Length, ["mmcs"] = JsonNumbers.Of(mean),
                    ["max_cos_sim"] = new JsonArray(max.Select(v => (JsonNode?)v).ToArray()),
                }.ToJsonString() + "\n");
            console.Out.WriteLine($"MMCS {EvalSummary.Format(mean)} over {max.Length} latents");
            return 0;
        }));
        return command;
    }
}

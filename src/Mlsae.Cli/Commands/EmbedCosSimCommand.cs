using System.CommandLine;
using System.Globalization;
using Mlsae.Analysis;
using Mlsae.Evaluation;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae embed-cos-sim</c>: for each latent, the tokens whose input and output
/// embeddings have the largest cosine similarity with its decoder vector, and the reference's summary.</summary>
public static class EmbedCosSimCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var sae = new SaeOptions();
        var top = new Option<int>("--top") { Description = "Tokens per latent (the reference's n_embeds)", DefaultValueFactory = _ => EmbedCosSim.DefaultEmbeds };
        var latents = new Option<string?>("--latents") { Description = "Latent indices, comma-separated (default: every latent)" };
        var output = new Option<string>("--out") { Description = "Output JSON (the _embed_in.csv and _embed_out.csv tables are written beside it)", Required = true };
        var layer = CommonOptions.DecoderLayer();
        var command = new Command("embed-cos-sim", "Tokens whose input/output embeddings are most similar to each latent's decoder vector, with mean/var/std/sem of the best") { model, revision, top, latents, output, layer };
        sae.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var chosen = ParseLatents(parse.GetValue(latents));
            using var resolved = sae.Load(parse, console, CPU);
            using var decoder = resolved.Decoder("embed-cos-sim", parse.GetValue(layer));
            // A per-layer family's layer holds latents FirstLatent …: --latents and the output name them so.
            if (chosen?.FirstOrDefault(l => !decoder.Holds(l), -1) is long outside and >= 0)
                throw new MlsaeException($"--latents: latent {outside} is not one of {decoder.FirstLatent}..{decoder.FirstLatent + decoder.Count - 1}{(parse.GetValue(layer) is int l ? $" (those of layer {l})" : "")}");
            using var context = ModelSession.Open(resolved.Model(parse.GetValue(model)) ?? EmbeddedDefaults.Model(null, console), parse.GetValue(revision)!, null,
                CPU, ScalarType.Float32, false, CliHub.Lazy(console));
            var local = EmbedCosSim.Compute(decoder.Weight, context.Model.InputEmbeddings(), context.Model.OutputEmbeddings(), context.Tokenizer, parse.GetValue(top),
                chosen?.Select(l => l - decoder.FirstLatent).ToArray());
            var result = local with { Latents = local.Latents.Select(l => l + decoder.FirstLatent).ToArray() };
            var path = parse.GetValue(output)!;
            var metadata = new Dictionary<string, string> { ["model"] = context.Name, ["sae"] = resolved.Folder };
            foreach (var (k, v) in CoderMetadata.Of(resolved.Autoencoder)) metadata[k] = v;
            if (parse.GetValue(layer) is int at) metadata["layer"] = at.ToString(CultureInfo.InvariantCulture);
            var csvs = result.Save(path, metadata);
            console.Out.WriteLine($"wrote {path} (+ {string.Join(", ", csvs.Select(Path.GetFileName))}): top {result.NEmbeds} tokens for {result.Latents.Length} latents; "
                + $"best cos sim embed_in mean {EvalSummary.Format(result.EmbedIn.Mean)} (sem {EvalSummary.Format(result.EmbedIn.Sem)}), "
                + $"embed_out mean {EvalSummary.Format(result.EmbedOut.Mean)} (sem {EvalSummary.Format(result.EmbedOut.Sem)})");
            return 0;
        }));
        return command;
    }

    static long[]? ParseLatents(string? text)
    {
        if (text is null) return null;
        return text.Split(',').Select(part => long.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var l)
            ? l : throw new MlsaeException($"--latents must be comma-separated latent indices, got '{text}'")).ToArray();
    }
}

using System.CommandLine;
using Mlsae.Models;
using System.Text.Json.Nodes;
using Mlsae.IO;
using Mlsae.Tokenization;
using static TorchSharp.torch;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae embed-cos-sim</c>: for each latent, the tokens whose input and output
/// embeddings have the largest cosine similarity with its decoder vector.</summary>
public static class EmbedCosSimCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var sae = new SaeOptions();
        var top = new Option<int>("--top") { Description = "Tokens per latent", DefaultValueFactory = _ => 10 };
        var output = new Option<string>("--out") { Description = "Output JSON", Required = true };
        var command = new Command("embed-cos-sim", "Tokens whose input/output embeddings are most similar to each latent's decoder vector") { model, revision, top, output };
        sae.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            using var resolved = sae.Load(parse, console, CPU);
            using var context = ModelSession.Open(resolved.Model(parse.GetValue(model)) ?? EmbeddedDefaults.Model(null, console), parse.GetValue(revision)!, null,
                CPU, ScalarType.Float32, false, CliHub.Lazy(console));
            var tokenizer = context.Tokenizer;
            int n = parse.GetValue(top);
            if (n <= 0) throw new MlsaeException($"--top must be positive, got {n}");
            using var scope = NewDisposeScope();
            var decoder = resolved.AsMlsae("embed-cos-sim").Decoder.detach();
            decoder = decoder / decoder.norm(1, keepdim: true).clamp_min(1e-8);               // [F, D]
            var latents = new JsonArray();
            var tables = new Dictionary<string, (Tensor Values, Tensor Indices)>();
            foreach (var (name, embeddings) in new[] { ("input", context.Model.InputEmbeddings()), ("output", context.Model.OutputEmbeddings()) })
            {
                var e = embeddings.to(ScalarType.Float32);
                e = e / e.norm(1, keepdim: true).clamp_min(1e-8);                              // [V, D]
                var (values, indices) = decoder.mm(e.t()).topk(Math.Min(n, (int)e.shape[0]), 1);
                tables[name] = (values, indices);
            }
            for (int f = 0; f < decoder.shape[0]; f++)
            {
                var entry = new JsonObject { ["latent"] = f };
                foreach (var (name, (values, indices)) in tables)
                    entry[name] = new JsonArray(indices[f].data<long>().ToArray().Zip(values[f].data<float>().ToArray())
                        .Select(p => (JsonNode?)new JsonObject { ["token_id"] = p.First, ["token"] = tokenizer.IdToToken((int)p.First) ?? "", ["cos_sim"] = p.Second }).ToArray());
                latents.Add(entry);
            }
            AtomicFile.WriteText(parse.GetValue(output)!, new JsonObject { ["model"] = context.Name, ["sae"] = resolved.Folder, ["latents"] = latents }.ToJsonString() + "\n");
            console.Out.WriteLine($"wrote {parse.GetValue(output)}: top {n} input and output tokens for {decoder.shape[0]} latents");
            return 0;
        }));
        return command;
    }
}

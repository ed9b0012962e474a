using System.CommandLine;
using System.Text.Json.Nodes;
using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae prompt</c>: one prompt's latents by layer (the reference's prompt heatmap data) and per token.</summary>
public static class PromptCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var sae = new SaeOptions();
        var text = new Option<string>("--text") { Description = "The prompt", Required = true };
        var output = new Option<string>("--out") { Description = "Output JSON (a PNG heatmap is written beside it)", Required = true };
        var device = CommonOptions.Device();
        var noSkip = CommonOptions.NoSkipSpecialTokens();
        var command = new Command("prompt", "For one prompt, each active latent's activation by layer (summed over tokens) and the latents of every token") { model, revision, text, output, device, noSkip };
        sae.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var (dev, _) = CommonOptions.ParseCompute(parse.GetValue(device)!, "float32");
            using var resolved = sae.Load(parse, console, dev);
            using var context = ModelContext.Open(resolved.Model(parse.GetValue(model)) ?? EmbeddedDefaults.Model(null, console), parse.GetValue(revision)!,
                resolved.LayerList(null), parse.GetValue(device)!, "float32", !parse.GetValue(noSkip) && (resolved.Run?.SkipSpecialTokens ?? true), console);
            var tokenizer = context.Tokenizer();
            var path = parse.GetValue(output)!;
            var (latents, tokens) = Write(resolved.Autoencoder, context, tokenizer, parse.GetValue(text)!, resolved.Folder, path);
            console.Out.WriteLine($"wrote {path}{(latents > 0 ? $" and {Path.ChangeExtension(path, ".png")}" : "")}: {tokens} tokens, {latents} active latents");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Runs one prompt through the model and the SAE and writes its JSON (each active latent's
    /// activation by layer summed over the tokens, share per layer and mean layer; the latents of
    /// every token; how many layers a latent spans for one token) and heatmap. Returns the number
    /// of active latents and of tokens.
    /// </summary>
    internal static (int Latents, int Tokens) Write(Coders.ISparseCoder sae, ModelContext context, Tokenization.Tokenizer tokenizer,
        string prompt, string saeName, string path)
    {
        var ids = tokenizer.Encode(prompt).Select(i => (long)i).ToArray();
        if (ids.Length == 0) throw new MlsaeException("--text: the prompt has no tokens");
        var layers = context.Layers;
        int f = sae.NLatents;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var encoded = sae.Forward(context.Stream.Forward(context.Stream.Tokens([ids])), training: false);
        var dense = encoded.TopK.Dense(f).squeeze(1);                                  // [L, T, F], ReLU'd
        var sums = dense.sum(1);                                                          // [L, F]
        double threshold = sae.DeadThreshold;
        var active = sums.max(0).values.gt(threshold).nonzero().squeeze(1).data<long>().ToArray();
        var perLayer = sums.index_select(1, tensor(active)).to(ScalarType.Float64);        // [L, A]
        var probs = perLayer / perLayer.sum(0, keepdim: true);
        var meanLayer = (probs * arange(layers.Length, dtype: ScalarType.Float64).unsqueeze(1)).sum(0, keepdim: false).data<double>().ToArray();
        var order = Enumerable.Range(0, active.Length).OrderBy(i => meanLayer[i]).ThenBy(i => active[i]).ToArray();
        var sumsArray = perLayer.data<double>().ToArray();
        var probsArray = probs.data<double>().ToArray();
        var latents = new JsonArray(order.Select(i => (JsonNode?)new JsonObject
        {
            ["latent"] = active[i],
            ["mean_layer"] = meanLayer[i],
            ["acts"] = new JsonArray(Enumerable.Range(0, layers.Length).Select(l => (JsonNode?)sumsArray[l * active.Length + i]).ToArray()),
            ["probs"] = new JsonArray(Enumerable.Range(0, layers.Length).Select(l => (JsonNode?)probsArray[l * active.Length + i]).ToArray()),
        }).ToArray());
        var values = encoded.TopK.Values.squeeze(1).data<float>().ToArray();              // [L, T, K]
        var indices = encoded.TopK.Indices.squeeze(1).data<long>().ToArray();
        int k = sae.K;
        var spans = new List<int>();   // per (token, latent): at how many layers the latent fires for that token
        var tokens = new JsonArray(Enumerable.Range(0, ids.Length).Select(t =>
        {
            var fired = Enumerable.Range(0, layers.Length).SelectMany(l => Enumerable.Range(0, k)
                .Where(s => values[(l * ids.Length + t) * k + s] > threshold)
                .Select(s => (Layer: layers[l], Latent: indices[(l * ids.Length + t) * k + s], Act: values[(l * ids.Length + t) * k + s]))).ToList();
            spans.AddRange(fired.GroupBy(x => x.Latent).Select(g => g.Count()));
            return (JsonNode?)new JsonObject
            {
                ["token_id"] = ids[t],
                ["token"] = tokenizer.Decode([(int)ids[t]]),
                ["latents"] = new JsonArray(fired.Select(x => (JsonNode?)new JsonObject { ["layer"] = x.Layer, ["latent"] = x.Latent, ["act"] = x.Act }).ToArray()),
            };
        }).ToArray());
        AtomicFile.WriteText(path, new JsonObject
        {
            ["prompt"] = prompt, ["model"] = context.Name, ["sae"] = saeName,
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode?)l).ToArray()),
            ["layers_per_token_latent_mean"] = JsonNumbers.Of(spans.Count == 0 ? double.NaN : spans.Average()),
            ["single_layer_fraction"] = JsonNumbers.Of(spans.Count == 0 ? double.NaN : spans.Count(x => x == 1) / (double)spans.Count),
            ["latents"] = latents, ["tokens"] = tokens,
        }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        var matrix = new double[layers.Length, order.Length];
        for (int l = 0; l < layers.Length; l++)
            for (int c = 0; c < order.Length; c++) matrix[l, c] = sumsArray[l * active.Length + order[c]];
        if (order.Length > 0)
            Figures.Figures.PromptHeatmap(matrix, layers, $"Prompt latents over layers — {context.Name}", Path.ChangeExtension(path, ".png"));
        return (order.Length, ids.Length);
    }
}

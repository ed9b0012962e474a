using System.Text.Json.Nodes;
using Mlsae.Autoencoder;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Tokenization;
using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// One prompt through the model and the MLSAE (the data of the reference's prompt heatmap), as
/// written to <c>prompt.json</c>: each active latent's activation by layer summed over the prompt's
/// tokens, its share per layer and mean layer; the latents of every token; and how many layers a
/// latent spans for a single token.
/// </summary>
/// <param name="Prompt">The text.</param>
/// <param name="Model">The model's name.</param>
/// <param name="Sae">The SAE's name or folder.</param>
/// <param name="Layers">Model layer indices, one per row of <see cref="Latent.Acts"/>.</param>
/// <param name="LayersPerTokenLatentMean">Mean over (token, latent) pairs that fire of the number of
/// layers the latent fires at for that token (<c>layers_per_token_latent_mean</c>; NaN when none fires).</param>
/// <param name="SingleLayerFraction">Share of those pairs that fire at exactly one layer (<c>single_layer_fraction</c>).</param>
/// <param name="Latents">The active latents, sorted by mean layer then index.</param>
/// <param name="Tokens">The prompt's tokens in order.</param>
public sealed record PromptAnalysis(string Prompt, string Model, string Sae, int[] Layers, double LayersPerTokenLatentMean, double SingleLayerFraction,
    IReadOnlyList<PromptAnalysis.Latent> Latents, IReadOnlyList<PromptAnalysis.Token> Tokens)
{
    /// <summary>A latent active on the prompt: its largest per-layer sum exceeds the SAE's dead threshold.</summary>
    /// <param name="Index">The latent (<c>latent</c>).</param>
    /// <param name="MeanLayer">Σ_l l·probs[l], l the position in the layer list (<c>mean_layer</c>).</param>
    /// <param name="Acts">Activation summed over the prompt's tokens, per layer (<c>acts</c>). // [L]</param>
    /// <param name="Probs">Acts / Σ_l acts (<c>probs</c>). // [L]</param>
    public sealed record Latent(long Index, double MeanLayer, double[] Acts, double[] Probs);

    /// <summary>One token and the latents that fire on it at each layer.</summary>
    /// <param name="Id">The token id (<c>token_id</c>).</param>
    /// <param name="Text">The token decoded on its own (<c>token</c>).</param>
    /// <param name="Latents">Its TopK latents above the dead threshold, layer by layer (<c>latents</c>).</param>
    public sealed record Token(long Id, string Text, IReadOnlyList<Firing> Latents);

    /// <summary>A latent firing on a token at one layer.</summary>
    /// <param name="Layer">The model layer (<c>layer</c>).</param>
    /// <param name="Latent">The latent (<c>latent</c>).</param>
    /// <param name="Act">Its TopK activation (<c>act</c>, float32 as the SAE computes it).</param>
    public sealed record Firing(int Layer, long Latent, float Act);

    /// <summary>Runs <paramref name="prompt"/> through <paramref name="stream"/> and <paramref name="sae"/>.</summary>
    public static PromptAnalysis Compute(Coders.ISparseCoder sae, ResidualStream stream, Tokenizer tokenizer, string prompt, string modelName, string saeName)
    {
        var ids = tokenizer.Encode(prompt).Select(i => (long)i).ToArray();
        if (ids.Length == 0) throw new MlsaeException("--text: the prompt has no tokens");
        var layers = stream.Layers.ToArray();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var encoded = sae.Forward(stream.Forward(stream.Tokens([ids])), training: false);
        var sums = encoded.TopK.Dense(sae.NLatents).squeeze(1).sum(1).cpu();     // [L, F], ReLU'd, summed over T
        var latents = ActiveLatents(sums, sae.DeadThreshold);
        var values = encoded.TopK.Values.squeeze(1).cpu().data<float>().ToArray();       // [L, T, K]
        var indices = encoded.TopK.Indices.squeeze(1).cpu().data<long>().ToArray();
        var spans = new List<int>();   // per (token, latent): at how many layers the latent fires for that token
        var tokens = Enumerable.Range(0, ids.Length).Select(t =>
        {
            var fired = new List<Firing>();
            for (int l = 0; l < layers.Length; l++)
                for (int s = 0; s < sae.K; s++)
                {
                    long at = ((long)l * ids.Length + t) * sae.K + s;
                    if (values[at] > sae.DeadThreshold) fired.Add(new Firing(layers[l], indices[at], values[at]));
                }
            spans.AddRange(fired.GroupBy(x => x.Latent).Select(g => g.Count()));
            return new Token(ids[t], tokenizer.Decode([(int)ids[t]]), fired);
        }).ToList();
        return new PromptAnalysis(prompt, modelName, saeName, layers,
            spans.Count == 0 ? double.NaN : spans.Average(),
            spans.Count == 0 ? double.NaN : spans.Count(x => x == 1) / (double)spans.Count,
            latents, tokens);
    }

    /// <summary>The latents whose largest per-layer sum exceeds <paramref name="threshold"/>, sorted by mean layer then index. // sums [L, F]</summary>
    static List<Latent> ActiveLatents(Tensor sums, double threshold)
    {
        int layers = (int)sums.shape[0];
        var active = sums.max(0).values.gt(threshold).nonzero().squeeze(1).data<long>().ToArray();
        var perLayer = sums.index_select(1, tensor(active)).to(ScalarType.Float64);        // [L, A]
        var probs = perLayer / perLayer.sum(0, keepdim: true);
        var meanLayer = (probs * arange(layers, dtype: ScalarType.Float64).unsqueeze(1)).sum(0, keepdim: false).data<double>().ToArray();
        var sumsArray = perLayer.data<double>().ToArray();
        var probsArray = probs.data<double>().ToArray();
        double[] Column(double[] matrix, int i) => Enumerable.Range(0, layers).Select(l => matrix[l * active.Length + i]).ToArray();
        return Enumerable.Range(0, active.Length).OrderBy(i => meanLayer[i]).ThenBy(i => active[i])
            .Select(i => new Latent(active[i], meanLayer[i], Column(sumsArray, i), Column(probsArray, i))).ToList();
    }

    /// <summary>The active latents' summed activations as a matrix, for the heatmap. // [L, A]</summary>
    public double[,] ActsByLayer()
    {
        var matrix = new double[Layers.Length, Latents.Count];
        for (int l = 0; l < Layers.Length; l++)
            for (int c = 0; c < Latents.Count; c++) matrix[l, c] = Latents[c].Acts[l];
        return matrix;
    }

    /// <summary>Writes prompt.json atomically.</summary>
    public void Save(string path) => ResultJson.Write(path, new JsonObject
    {
        ["prompt"] = Prompt, ["model"] = Model, ["sae"] = Sae,
        ["layers"] = new JsonArray(Layers.Select(l => (JsonNode?)l).ToArray()),
        ["layers_per_token_latent_mean"] = JsonNumbers.Of(LayersPerTokenLatentMean),
        ["single_layer_fraction"] = JsonNumbers.Of(SingleLayerFraction),
        ["latents"] = new JsonArray(Latents.Select(x => (JsonNode?)new JsonObject
        {
            ["latent"] = x.Index, ["mean_layer"] = x.MeanLayer,
            ["acts"] = new JsonArray(x.Acts.Select(v => (JsonNode?)v).ToArray()),
            ["probs"] = new JsonArray(x.Probs.Select(v => (JsonNode?)v).ToArray()),
        }).ToArray()),
        ["tokens"] = new JsonArray(Tokens.Select(t => (JsonNode?)new JsonObject
        {
            ["token_id"] = t.Id, ["token"] = t.Text,
            ["latents"] = new JsonArray(t.Latents.Select(x => (JsonNode?)new JsonObject { ["layer"] = x.Layer, ["latent"] = x.Latent, ["act"] = x.Act }).ToArray()),
        }).ToArray()),
    });

    /// <summary>Reads a file written by <see cref="Save"/>. A file of the wrong shape is an
    /// <see cref="MlsaeException"/> naming the file and the field.</summary>
    public static PromptAnalysis Load(string path)
    {
        var json = ResultJson.Read(path);
        var (prompt, model, sae) = (json.String("prompt"), json.String("model"), json.String("sae"));
        var layers = json.Ints("layers");
        var latents = json.Objects("latents").Select(x =>
        {
            var acts = x.Doubles("acts");
            var probs = x.Doubles("probs");
            if (acts.Length != layers.Length) throw x.Error("acts", $"has {acts.Length} values for {layers.Length} layers");
            if (probs.Length != layers.Length) throw x.Error("probs", $"has {probs.Length} values for {layers.Length} layers");
            return new Latent(x.Long("latent"), x.Double("mean_layer"), acts, probs);
        }).ToList();
        var tokens = json.Objects("tokens").Select(t => new Token(t.Long("token_id"), t.String("token"),
            t.Objects("latents").Select(x => new Firing(x.Int("layer"), x.Long("latent"), x.Float("act"))).ToList())).ToList();
        return new PromptAnalysis(prompt, model, sae, layers, json.DoubleOrNaN("layers_per_token_latent_mean"), json.DoubleOrNaN("single_layer_fraction"), latents, tokens);
    }
}

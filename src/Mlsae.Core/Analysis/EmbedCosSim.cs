using System.Text;
using System.Text.Json.Nodes;
using Mlsae.IO;
using Mlsae.Tokenization;
using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// The reference's <c>figures/embed_cos_sim.py</c>: for each latent, the <c>n_embeds</c> (8) tokens
/// whose input embedding (<c>embed_in</c>) and output embedding (<c>embed_out</c>, the unembedding)
/// have the largest cosine similarity with its decoder vector, each token decoded on its own as
/// <c>tokenizer.decode(id)</c> does (no clean-up; ids past the tokenizer's vocabulary decode to "");
/// and, per embedding, the summary the reference tabulates: mean, variance and std (unbiased, as
/// <c>torch.var</c>/<c>std</c>) and sem = std / √F of every latent's <em>largest</em> similarity.
/// </summary>
/// <param name="Latents">The latents, in the order given. // [F']</param>
/// <param name="NEmbeds">Tokens kept per latent (<c>n_embeds</c>).</param>
/// <param name="EmbedIn">Against the input embeddings (<c>embed_in</c>).</param>
/// <param name="EmbedOut">Against the output embeddings (<c>embed_out</c>).</param>
public sealed record EmbedCosSim(long[] Latents, int NEmbeds, EmbedCosSim.Table EmbedIn, EmbedCosSim.Table EmbedOut)
{
    /// <summary>The reference's default <c>n_embeds</c>.</summary>
    public const int DefaultEmbeds = 8;

    /// <summary>A token similar to a latent.</summary>
    /// <param name="TokenId">The token id (<c>token_id</c>).</param>
    /// <param name="Token">Its decoded text (<c>token</c>).</param>
    /// <param name="CosSim">Cosine similarity with the latent's decoder vector (<c>cos_sim</c>).</param>
    public sealed record Match(long TokenId, string Token, float CosSim);

    /// <summary>The top tokens of every latent against one embedding matrix, and the summary of the best.</summary>
    /// <param name="Top">Per latent, its <c>n_embeds</c> tokens, most similar first. // [F', n]</param>
    /// <param name="Mean">Mean of the latents' largest similarity (<c>mean</c>).</param>
    /// <param name="Var">Its unbiased variance (<c>var</c>).</param>
    /// <param name="Std">Its unbiased standard deviation (<c>std</c>).</param>
    /// <param name="Sem">Std / √F' (<c>sem</c>).</param>
    public sealed record Table(IReadOnlyList<Match[]> Top, double Mean, double Var, double Std, double Sem);

    /// <summary>
    /// Compares <paramref name="decoder"/>'s rows for <paramref name="latents"/> (all when null) with
    /// both embedding matrices, in chunks of latents so memory stays at chunk · V.
    /// // decoder [F, D], embedIn and embedOut [V, D]
    /// </summary>
    public static EmbedCosSim Compute(Tensor decoder, Tensor embedIn, Tensor embedOut, Tokenizer tokenizer, int nEmbeds, long[]? latents = null, int chunk = 256)
    {
        long f = decoder.shape[0];
        Tensors.Shapes.Check(embedIn, "embed_in", -1, decoder.shape[1]);
        Tensors.Shapes.Check(embedOut, "embed_out", -1, decoder.shape[1]);
        if (nEmbeds <= 0) throw new MlsaeException($"--top must be positive, got {nEmbeds}");
        latents ??= Enumerable.Range(0, (int)f).Select(i => (long)i).ToArray();
        if (latents.Length == 0) throw new MlsaeException("--latents: no latent given");
        if (latents.FirstOrDefault(l => l < 0 || l >= f, -1) is long bad and >= 0)
            throw new MlsaeException($"--latents: latent {bad} is not one of 0..{f - 1}");
        int n = (int)Math.Min(nEmbeds, Math.Min(embedIn.shape[0], embedOut.shape[0]));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = Normalize(decoder.index_select(0, tensor(latents)));                // [F', D]
        return new EmbedCosSim(latents, n, Against(w, Normalize(embedIn), tokenizer, n, chunk), Against(w, Normalize(embedOut), tokenizer, n, chunk));
    }

    /// <summary>The reference's <c>normalize</c>: unit rows, norms floored at 1e-8. // [N, D]</summary>
    static Tensor Normalize(Tensor x)
    {
        var v = x.detach().to(ScalarType.Float32);
        return v / v.norm(1, keepdim: true).clamp_min(1e-8);
    }

    static Table Against(Tensor w, Tensor embeddings, Tokenizer tokenizer, int n, int chunk)
    {
        var top = new List<Match[]>();
        for (long start = 0; start < w.shape[0]; start += chunk)
        {
            using var inner = NewDisposeScope();
            var (values, indices) = w.narrow(0, start, Math.Min(chunk, w.shape[0] - start)).mm(embeddings.t()).topk(n, 1);   // [c, n]
            var v = values.data<float>().ToArray();
            var i = indices.data<long>().ToArray();
            for (int row = 0; row < values.shape[0]; row++)
                top.Add(Enumerable.Range(row * n, n).Select(at => new Match(i[at], Decode(tokenizer, i[at]), v[at])).ToArray());
        }
        var best = top.Select(m => (double)m[0].CosSim).ToArray();
        double mean = best.Average();
        double variance = best.Length < 2 ? double.NaN : best.Sum(x => (x - mean) * (x - mean)) / (best.Length - 1);
        double std = Math.Sqrt(variance);
        return new Table(top, mean, variance, std, std / Math.Sqrt(best.Length));
    }

    static string Decode(Tokenizer tokenizer, long id) => tokenizer.IdToToken((int)id) is null ? "" : tokenizer.Decode([(int)id]);

    /// <summary>
    /// Writes the JSON (the summaries under <c>embed_in</c>/<c>embed_out</c>, then every latent's
    /// tokens, with <paramref name="metadata"/>) at <paramref name="path"/> and the reference's CSVs
    /// <c>&lt;stem&gt;_embed_in.csv</c> and <c>&lt;stem&gt;_embed_out.csv</c> (<c>latent,token,sim,token_id</c>)
    /// beside it, atomically; returns the CSV paths.
    /// </summary>
    public IReadOnlyList<string> Save(string path, IReadOnlyDictionary<string, string> metadata)
    {
        JsonObject Summary(Table t) => new() { ["mean"] = JsonNumbers.Of(t.Mean), ["var"] = JsonNumbers.Of(t.Var), ["std"] = JsonNumbers.Of(t.Std), ["sem"] = JsonNumbers.Of(t.Sem) };
        JsonArray Matches(Match[] ms) => new(ms.Select(m => (JsonNode?)new JsonObject { ["token_id"] = m.TokenId, ["token"] = m.Token, ["cos_sim"] = m.CosSim }).ToArray());
        var json = new JsonObject();
        foreach (var (k, v) in metadata) json[k] = v;
        json["n_latents"] = Latents.Length;
        json["n_embeds"] = NEmbeds;
        json["embed_in"] = Summary(EmbedIn);
        json["embed_out"] = Summary(EmbedOut);
        json["latents"] = new JsonArray(Latents.Select((l, i) => (JsonNode?)new JsonObject
        {
            ["latent"] = l, ["embed_in"] = Matches(EmbedIn.Top[i]), ["embed_out"] = Matches(EmbedOut.Top[i]),
        }).ToArray());
        var stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path));
        var csvs = new[] { (stem + "_embed_in.csv", EmbedIn), (stem + "_embed_out.csv", EmbedOut) };
        foreach (var (csv, table) in csvs)
        {
            var text = new StringBuilder("latent,token,sim,token_id\n");
            for (int i = 0; i < Latents.Length; i++)
                foreach (var m in table.Top[i])
                    text.Append(string.Join(",", CsvText.Number(Latents[i]), CsvText.Field(m.Token), CsvText.Number(m.CosSim), CsvText.Number(m.TokenId))).Append('\n');
            AtomicFile.WriteText(csv, text.ToString());
        }
        ResultJson.Write(path, json);
        return csvs.Select(c => c.Item1).ToArray();
    }
}

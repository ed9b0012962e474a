using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Mlsae.Explorer;

namespace Mlsae.Serve.Endpoints;

/// <summary><c>GET /api/latents</c> (a page of latents), <c>/api/latent/{i}</c> (one latent) and <c>/api/search</c> (latents of a token).
/// For a crosscoder a latent's <c>shares</c> are its shares of the activation-weighted reconstruction per layer,
/// <c>decoder_share</c> its decoder-norm share, and its examples one group (<c>layer: null</c>).</summary>
public static class LatentEndpoints
{
    /// <summary>Most latents one page lists.</summary>
    public const int MaxPage = 5000;
    /// <summary>Examples sampled from each quantile bin.</summary>
    const int PerQuantile = 3;
    const int Quantiles = 5;

    /// <summary>Maps the routes.</summary>
    public static void Map(RouteGroupBuilder api, Explorer explorer, ServeOptions options)
    {
        api.MapGet("/latents", context => ApiCall.Get(context, options, _ => Page(context.Request.Query, explorer)));
        api.MapGet("/latent/{i}", context => ApiCall.Get(context, options, _ =>
        {
            var text = context.Request.RouteValues["i"]?.ToString() ?? "";
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var i)) throw new MlsaeException($"latent '{text}' is not an integer");
            return Latent(ApiJson.CheckLatent(i, explorer), explorer);
        }));
        api.MapGet("/search", context => ApiCall.Get(context, options, _ =>
        {
            var token = context.Request.Query["token"].ToString();
            if (token.Length == 0) throw new MlsaeException("missing ?token=");
            if (token.Length > 256) throw new MlsaeException("?token= is longer than 256 characters");
            var examples = explorer.Examples ?? throw new NotFoundException("no examples database is loaded (pass --examples)");
            return new JsonObject
            {
                ["token"] = token,
                ["latents"] = new JsonArray(examples.ByToken(token, 50).Select(h => (JsonNode?)new JsonObject
                {
                    ["latent"] = h.Latent, ["examples"] = h.Examples, ["max_act"] = ApiJson.Number(h.MaxAct),
                    ["mean_layer"] = explorer.Catalog is { } c ? ApiJson.Number(c.Entries[h.Latent].MeanLayer) : null,
                }).ToArray()),
            };
        }));
    }

    static JsonObject Page(IQueryCollection query, Explorer explorer)
    {
        string sort = query["sort"].ToString() is { Length: > 0 } s ? s : "index";
        double minFreq = Double(query, "min_freq", 0);
        int offset = (int)Double(query, "offset", 0), limit = (int)Double(query, "limit", 100);
        if (offset < 0 || limit <= 0 || limit > MaxPage) throw new MlsaeException($"?offset= must be ≥ 0 and ?limit= 1..{MaxPage}");
        var q = query["q"].ToString().Trim();
        var catalog = explorer.Catalog;
        var tops = explorer.TopTokens;
        var rows = Enumerable.Range(0, explorer.Sae.NLatents)
            .Where(f => catalog is null ? minFreq <= 0 : catalog.Entries[f].Frequency >= minFreq)
            .Where(f => q.Length == 0 || f.ToString(CultureInfo.InvariantCulture) == q
                || (tops.TryGetValue(f, out var t) && t.Contains(q, StringComparison.OrdinalIgnoreCase)));
        Func<int, double> key = sort switch
        {
            "index" => f => f,
            "mean_layer" => f => catalog?.Entries[f].MeanLayer ?? f,
            "layer_std" => f => catalog?.Entries[f].LayerStd ?? f,
            "frequency" => f => -(catalog?.Entries[f].Frequency ?? 0),
            _ => throw new MlsaeException($"?sort= must be index, mean_layer, layer_std or frequency, got '{sort}'"),
        };
        // NaN (never selected) sorts last, then by index.
        var sorted = rows.OrderBy(f => double.IsNaN(key(f)) ? 1 : 0).ThenBy(f => double.IsNaN(key(f)) ? 0 : key(f)).ThenBy(f => f).ToList();
        return new JsonObject
        {
            ["total"] = sorted.Count,
            ["layers"] = ApiJson.Integers(explorer.Model.Layers.Select(l => (long)l)),
            ["latents"] = new JsonArray(sorted.Skip(offset).Take(limit).Select(f => (JsonNode?)Row(f, explorer)).ToArray()),
        };
    }

    static JsonObject Row(int f, Explorer explorer)
    {
        var e = explorer.Catalog?.Entries[f];
        return new JsonObject
        {
            ["latent"] = f,
            ["mean_layer"] = e is null ? null : ApiJson.Number(e.MeanLayer),
            ["layer_std"] = e is null ? null : ApiJson.Number(e.LayerStd),
            ["frequency"] = e is null ? null : ApiJson.Number(e.Frequency),
            ["shares"] = e is null ? null : ApiJson.Numbers(e.Shares),
            ["top_token"] = explorer.TopTokens.TryGetValue(f, out var t) ? t : null,
        };
    }

    static double Double(IQueryCollection query, string name, double fallback)
    {
        var text = query[name].ToString();
        if (text.Length == 0) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new MlsaeException($"?{name}= must be a number, got '{text}'");
    }

    static JsonObject Latent(int latent, Explorer explorer)
    {
        var row = Row(latent, explorer);
        var entry = explorer.Catalog?.Entries[latent];
        if (entry is not null)
        {
            row["counts"] = ApiJson.Integers(entry.Counts);
            row["layer_frequency"] = ApiJson.Numbers(entry.LayerFrequency);
        }
        row["layers"] = ApiJson.Integers(explorer.Model.Layers.Select(l => (long)l));
        row["kind"] = explorer.Sae.Kind;
        // A crosscoder latent's share of its decoder norm per layer, beside the data's shares.
        row["decoder_share"] = explorer.DecoderShare is { } share
            ? ApiJson.Numbers(Enumerable.Range(0, share.GetLength(0)).Select(l => share[l, latent]))
            : null;
        var logits = DecoderLogits.Compute(explorer.Model.Model, explorer.Sae, latent, Explorer.TopLogits);
        row["logits"] = new JsonObject
        {
            ["top"] = ApiJson.Logits(logits.Top, explorer), ["bottom"] = ApiJson.Logits(logits.Bottom, explorer),
            ["layer"] = logits.Layer is int at ? explorer.Model.Layers[at] : null,
        };
        var examples = explorer.Examples?.OfLatent(latent) ?? [];
        var acts = examples.Select(x => x.Act).ToList();
        row["density"] = new JsonObject
        {
            ["frequency"] = entry is null ? null : ApiJson.Number(entry.Frequency),
            ["log10_frequency"] = entry is null || entry.Frequency <= 0 ? null : ApiJson.Number(Math.Log10(entry.Frequency)),
            // Over all the data the dists read, in log-spaced bins; else of the stored examples only
            // (the top ones per layer), which is all an examples database keeps.
            ["histogram"] = entry?.Density is { } density ? new JsonObject
            {
                ["source"] = "dists", ["scale"] = "log10",
                ["edges"] = ApiJson.Numbers(Analysis.ActivationDensity.Edges()), ["counts"] = ApiJson.Integers(density),
            } : acts.Count == 0 ? null : Histogram(acts),
        };
        // A crosscoder's examples are per latent (one code per token for all layers): one group, layer null.
        IEnumerable<int?> groups = explorer.Sae.CodesPerToken ? [null] : explorer.Model.Layers.Select(l => (int?)l);
        row["examples"] = explorer.Examples is null ? null : new JsonObject
        {
            ["by_layer"] = new JsonArray(groups.Select(l => (JsonNode?)new JsonObject
            {
                ["layer"] = l,
                ["examples"] = new JsonArray(examples.Where(x => l is null || x.Layer == l).Take(8).Select(x => (JsonNode?)Example(x, explorer)).ToArray()),
            }).ToArray()),
            ["by_quantile"] = ByQuantile(examples, explorer),
        };
        return row;
    }

    /// <summary>The stored examples pooled over layers, cut into equal-count bins by activation
    /// (highest first), a few evenly spaced ones from each.</summary>
    static JsonArray ByQuantile(List<ExamplesQueries.Example> examples, Explorer explorer)
    {
        var sorted = examples.OrderByDescending(x => x.Act).ToList();
        var bins = new JsonArray();
        if (sorted.Count == 0) return bins;
        int n = Math.Min(Quantiles, sorted.Count);
        for (int b = 0; b < n; b++)
        {
            int from = b * sorted.Count / n, to = (b + 1) * sorted.Count / n;
            var bin = sorted.GetRange(from, to - from);
            var picks = Enumerable.Range(0, Math.Min(PerQuantile, bin.Count)).Select(j => bin[j * bin.Count / Math.Min(PerQuantile, bin.Count)]);
            bins.Add(new JsonObject
            {
                ["from_quantile"] = (double)from / sorted.Count, ["to_quantile"] = (double)to / sorted.Count,
                ["max_act"] = bin[0].Act, ["min_act"] = bin[^1].Act,
                ["examples"] = new JsonArray(picks.Select(x => (JsonNode?)Example(x, explorer)).ToArray()),
            });
        }
        return bins;
    }

    static JsonObject Example(ExamplesQueries.Example x, Explorer explorer) => new()
    {
        ["layer"] = x.Layer == Analysis.ExamplesDatabase.AllLayers ? null : x.Layer, ["act"] = x.Act, ["offset"] = x.Offset,
        ["tokens"] = ApiJson.Tokens(x.TokenIds, explorer),
        ["acts"] = ApiJson.Numbers(x.Acts.Select(a => (double)a)),
    };

    static JsonObject Histogram(List<float> acts)
    {
        var h = LayerHistogram.Shared([acts], 20)[0];
        return new JsonObject { ["source"] = "examples", ["scale"] = "linear", ["edges"] = ApiJson.Numbers(h.Edges), ["counts"] = ApiJson.Integers(h.Counts) };
    }
}

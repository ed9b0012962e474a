using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Explorer;

namespace Mlsae.Serve;

/// <summary>The JSON shapes the API shares: token lists, logits, errors; numbers that are not
/// finite become null (JSON has no NaN).</summary>
public static class ApiJson
{
    /// <summary>A number, or null when not finite.</summary>
    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>A JSON array of numbers.</summary>
    public static JsonArray Numbers(IEnumerable<double> values) => new(values.Select(Number).ToArray());

    /// <summary>A JSON array of integers.</summary>
    public static JsonArray Integers(IEnumerable<long> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    /// <summary>Tokens as <c>[{"id", "text"}]</c>.</summary>
    public static JsonArray Tokens(IEnumerable<long> ids, Explorer explorer) =>
        new(ids.Select(id => (JsonNode?)new JsonObject { ["id"] = id, ["text"] = explorer.Text(id) }).ToArray());

    /// <summary>Logits as <c>[{"id", "text", "logit", "prob"}]</c> (<c>prob</c> only where there is one).</summary>
    public static JsonArray Logits(IEnumerable<TokenLogit> logits, Explorer explorer) => new(logits.Select(l =>
    {
        var o = new JsonObject { ["id"] = l.Id, ["text"] = explorer.Text(l.Id), ["logit"] = Number(l.Logit) };
        if (l.Prob is double p) o["prob"] = Number(p);
        return (JsonNode?)o;
    }).ToArray());

    /// <summary>Per position, logits.</summary>
    public static JsonArray LogitRows(IEnumerable<TokenLogit[]> rows, Explorer explorer) => new(rows.Select(r => (JsonNode?)Logits(r, explorer)).ToArray());

    /// <summary>The body of an error answer.</summary>
    public static JsonObject Error(string message) => new() { ["error"] = message.ReplaceLineEndings(" ") };

    /// <summary>A latent index checked against the SAE.</summary>
    public static int CheckLatent(long latent, Explorer explorer) => latent >= 0 && latent < explorer.Sae.NLatents ? (int)latent
        : throw new MlsaeException($"latent {latent} out of range (the SAE has latents 0..{explorer.Sae.NLatents - 1})");

    /// <summary>Serializer options for answers.</summary>
    public static readonly JsonSerializerOptions Options = new() { WriteIndented = false };
}

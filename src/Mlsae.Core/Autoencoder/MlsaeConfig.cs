using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mlsae.Autoencoder;

/// <summary>
/// The reference's <c>MLSAE.__init__</c> arguments, as its checkpoint's <c>config.json</c> holds
/// them (all seven keys, sorted, two-space indent, no trailing newline).
/// </summary>
public sealed record MlsaeConfig
{
    /// <summary>Inputs per vector: the model's d_model (D).</summary>
    [JsonPropertyName("n_inputs")] public required int NInputs { get; init; }
    /// <summary>Latents (F): D times the expansion factor.</summary>
    [JsonPropertyName("n_latents")] public required int NLatents { get; init; }
    /// <summary>Latents kept per vector by TopK (K).</summary>
    [JsonPropertyName("k")] public required int K { get; init; }
    /// <summary>Dead latents used by the AuxK loss; null disables AuxK.</summary>
    [JsonPropertyName("auxk")] public int? AuxK { get; init; } = 256;
    /// <summary>Forward calls without firing after which the reference calls a latent dead.</summary>
    [JsonPropertyName("dead_steps_threshold")] public required long DeadStepsThreshold { get; init; }
    /// <summary>A latent fires when its TopK value exceeds this.</summary>
    [JsonPropertyName("dead_threshold")] public double DeadThreshold { get; init; } = 1e-3;
    /// <summary>Standardize each input vector (mean 0, unbiased std 1) before encoding.</summary>
    [JsonPropertyName("standardize")] public bool Standardize { get; init; } = true;

    /// <summary>Fails with a message naming the bad value.</summary>
    public MlsaeConfig Validate(string where = "config")
    {
        if (NInputs <= 0) throw new MlsaeException($"{where}: n_inputs must be positive, got {NInputs}");
        if (NLatents <= 0) throw new MlsaeException($"{where}: n_latents must be positive, got {NLatents}");
        if (K <= 0 || K > NLatents) throw new MlsaeException($"{where}: k must be in 1..n_latents ({NLatents}), got {K}");
        if (AuxK is int a && (a <= 0 || a > NLatents)) throw new MlsaeException($"{where}: auxk must be in 1..n_latents ({NLatents}) or null, got {a}");
        if (DeadStepsThreshold < 0) throw new MlsaeException($"{where}: dead_steps_threshold must not be negative, got {DeadStepsThreshold}");
        if (!double.IsFinite(DeadThreshold)) throw new MlsaeException($"{where}: dead_threshold must be finite");
        return this;
    }

    /// <summary>The reference's text: <c>json.dumps(config, sort_keys=True, indent=2)</c>.</summary>
    public string ToJson()
    {
        var node = new JsonObject
        {
            ["auxk"] = AuxK is int a ? JsonValue.Create(a) : null,
            ["dead_steps_threshold"] = DeadStepsThreshold,
            ["dead_threshold"] = PythonFloat(DeadThreshold),
            ["k"] = K,
            ["n_inputs"] = NInputs,
            ["n_latents"] = NLatents,
            ["standardize"] = Standardize,
        };
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }).ReplaceLineEndings("\n");
    }

    /// <summary>A float as Python's <c>repr</c> writes it (<c>0.001</c>, <c>1e-05</c>, <c>2.0</c>), so saved configs are byte-identical to the reference's.</summary>
    internal static JsonNode PythonFloat(double v)
    {
        var text = v.ToString("R", System.Globalization.CultureInfo.InvariantCulture).Replace('E', 'e');
        if (!text.Contains('.') && !text.Contains('e')) text += ".0";
        return JsonNode.Parse(text)!;
    }

    /// <summary>Parses a reference <c>config.json</c>; unknown keys (e.g. from newer versions) are ignored, as <c>from_pretrained</c> does.</summary>
    public static MlsaeConfig FromJson(string json, string where)
    {
        try
        {
            var node = JsonNode.Parse(json)?.AsObject() ?? throw new MlsaeException($"{where}: expected a JSON object");
            int Int(string key) => node[key]?.GetValue<int>() ?? throw new MlsaeException($"{where}: missing \"{key}\"");
            return new MlsaeConfig
            {
                NInputs = Int("n_inputs"),
                NLatents = Int("n_latents"),
                K = Int("k"),
                AuxK = node.ContainsKey("auxk") ? node["auxk"]?.GetValue<int>() : 256,
                DeadStepsThreshold = node["dead_steps_threshold"]?.GetValue<long>() ?? throw new MlsaeException($"{where}: missing \"dead_steps_threshold\""),
                DeadThreshold = node["dead_threshold"]?.GetValue<double>() ?? 1e-3,
                Standardize = node["standardize"]?.GetValue<bool>() ?? true,
            }.Validate(where);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)   // ArgumentException: a key given twice
        {
            throw MlsaeException.From($"{where}: not a valid MLSAE config", e);
        }
    }
}

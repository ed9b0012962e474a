using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Autoencoder;
using Mlsae.IO;

namespace Mlsae.Coders.Crosscoder;

/// <summary>
/// A crosscoder's architecture, as its checkpoint's <c>config.json</c> holds it: the MLSAE's keys
/// (<c>n_inputs</c>, <c>n_latents</c>, <c>k</c>, <c>auxk</c>, <c>dead_threshold</c>, <c>standardize</c>)
/// plus <c>kind: "crosscoder"</c> and <c>layers</c>, the model layers it reads (L of them, in the
/// order of the inputs' rows). Sorted keys, two-space indent, as the MLSAE's.
/// </summary>
public sealed record CrosscoderConfig
{
    /// <summary>Inputs per layer vector: the model's d_model (D).</summary>
    public required int NInputs { get; init; }
    /// <summary>Latents (F): D times the expansion factor, as for the other kinds.</summary>
    public required int NLatents { get; init; }
    /// <summary>Model layers read, in row order (their count is L).</summary>
    public required int[] ModelLayers { get; init; }
    /// <summary>Latents kept per token (K), across all its layers.</summary>
    public required int K { get; init; }
    /// <summary>Dead latents used by the AuxK loss per token; null disables AuxK.</summary>
    public int? AuxK { get; init; } = 256;
    /// <summary>A latent fires when its activation exceeds this.</summary>
    public double DeadThreshold { get; init; } = 1e-3;
    /// <summary>Standardize each layer's vector (mean 0, unbiased std 1) before encoding, as the MLSAE.</summary>
    public bool Standardize { get; init; } = true;

    /// <summary>L.</summary>
    public int NLayers => ModelLayers.Length;

    /// <summary>Value equality, <see cref="ModelLayers"/> compared by its elements.</summary>
    public bool Equals(CrosscoderConfig? other) => other is not null && NInputs == other.NInputs && NLatents == other.NLatents
        && ModelLayers.SequenceEqual(other.ModelLayers) && K == other.K && AuxK == other.AuxK && DeadThreshold.Equals(other.DeadThreshold) && Standardize == other.Standardize;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(NInputs, NLatents, ModelLayers.Length, K, AuxK, DeadThreshold, Standardize);

    /// <summary>Fails with a message naming the bad value.</summary>
    public CrosscoderConfig Validate(string where = "config")
    {
        if (NInputs <= 0) throw new MlsaeException($"{where}: n_inputs must be positive, got {NInputs}");
        if (NLatents <= 0) throw new MlsaeException($"{where}: n_latents must be positive, got {NLatents}");
        if (ModelLayers.Length == 0) throw new MlsaeException($"{where}: layers must name at least one model layer");
        if (ModelLayers.Any(l => l < 0) || ModelLayers.Distinct().Count() != ModelLayers.Length)
            throw new MlsaeException($"{where}: layers must be distinct model layer indices, got [{string.Join(", ", ModelLayers)}]");
        if (K <= 0 || K > NLatents) throw new MlsaeException($"{where}: k must be in 1..n_latents ({NLatents}), got {K}");
        if (AuxK is int a && (a <= 0 || a > NLatents)) throw new MlsaeException($"{where}: auxk must be in 1..n_latents ({NLatents}) or null, got {a}");
        if (!double.IsFinite(DeadThreshold)) throw new MlsaeException($"{where}: dead_threshold must be finite");
        return this;
    }

    /// <summary>The <c>config.json</c> text.</summary>
    public string ToJson()
    {
        var node = new JsonObject
        {
            ["auxk"] = AuxK is int a ? JsonValue.Create(a) : null,
            ["dead_threshold"] = MlsaeConfig.PythonFloat(DeadThreshold),
            ["k"] = K,
            [SparseCoderRegistry.KindKey] = AcausalCrosscoder.KindName,
            ["layers"] = new JsonArray(ModelLayers.Select(l => (JsonNode?)l).ToArray()),
            ["n_inputs"] = NInputs,
            ["n_latents"] = NLatents,
            ["standardize"] = Standardize,
        };
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }).ReplaceLineEndings("\n");
    }

    /// <summary>Reads a crosscoder <c>config.json</c>; a missing or mistyped key is an error naming the file and the key.</summary>
    public static CrosscoderConfig Load(string path)
    {
        var json = ResultJson.Read(path);
        return new CrosscoderConfig
        {
            NInputs = json.Int("n_inputs"),
            NLatents = json.Int("n_latents"),
            ModelLayers = json.Ints("layers"),
            K = json.Int("k"),
            AuxK = json.Has("auxk") && json.Json["auxk"] is null ? null : json.OptionalInt("auxk") ?? 256,
            DeadThreshold = json.Has("dead_threshold") ? json.Double("dead_threshold") : 1e-3,
            Standardize = json.Bool("standardize", absent: true),
        }.Validate(path);
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mlsae.Models;

/// <summary>
/// A GPT-NeoX (Pythia) configuration, read from an HF <c>config.json</c>. Classic and newer key
/// spellings are both accepted (<c>rotary_pct</c>/<c>partial_rotary_factor</c>,
/// <c>rotary_emb_base</c>/<c>rope_theta</c>/<c>rope_parameters</c>, <c>torch_dtype</c>/<c>dtype</c>);
/// values this port does not implement are rejected by <see cref="Validate"/>.
/// </summary>
public sealed record GptNeoXConfig : ILanguageModelConfig
{
    /// <summary>The HF <c>model_type</c> of GPT-NeoX configs.</summary>
    public const string ModelType = "gpt_neox";

    /// <summary>d_model (D).</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 512;
    /// <summary>Number of attention heads; head size = hidden_size / heads.</summary>
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 8;
    /// <summary>Number of transformer blocks.</summary>
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 6;
    /// <summary>MLP hidden width.</summary>
    [JsonPropertyName("intermediate_size")] public int IntermediateSize { get; init; } = 2048;
    /// <summary>Embedding rows (V), usually padded beyond the tokenizer's vocabulary.</summary>
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 50304;
    /// <summary>Longest sequence the model was trained for.</summary>
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    /// <summary>Epsilon inside the square root of every LayerNorm.</summary>
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; init; } = 1e-5;
    /// <summary>Fraction of each head's dims that get rotary embeddings (truncated to an int).</summary>
    [JsonPropertyName("rotary_pct")] public double RotaryPct { get; init; } = 0.25;
    /// <summary>Rotary base (theta).</summary>
    [JsonPropertyName("rotary_emb_base")] public double RotaryEmbBase { get; init; } = 10000;
    /// <summary>Parallel residual: x + attn(ln1(x)) + mlp(ln2(x)); otherwise sequential.</summary>
    [JsonPropertyName("use_parallel_residual")] public bool UseParallelResidual { get; init; } = true;
    /// <summary>Activation of the MLP (<c>gelu</c> is the exact erf form).</summary>
    [JsonPropertyName("hidden_act")] public string HiddenAct { get; init; } = "gelu";
    /// <summary>Whether the attention projections have biases.</summary>
    [JsonPropertyName("attention_bias")] public bool AttentionBias { get; init; } = true;
    /// <summary>Whether embed_out shares embed_in's weights.</summary>
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }
    /// <summary>Stored weight dtype (<c>float32</c>, <c>float16</c>, <c>bfloat16</c>).</summary>
    [JsonPropertyName("torch_dtype")] public string TorchDtype { get; init; } = "float32";
    /// <summary>Beginning-of-sequence token id, if any.</summary>
    [JsonPropertyName("bos_token_id")] public long? BosTokenId { get; init; } = 0;
    /// <summary>End-of-sequence token id, if any.</summary>
    [JsonPropertyName("eos_token_id")] public long? EosTokenId { get; init; } = 0;
    /// <summary>Padding token id, if any.</summary>
    [JsonPropertyName("pad_token_id")] public long? PadTokenId { get; init; }

    string ILanguageModelConfig.ModelType => ModelType;
    int? ILanguageModelConfig.MaxPositionEmbeddings => MaxPositionEmbeddings;

    /// <summary>Head size (hidden_size / heads).</summary>
    [JsonIgnore] public int HeadSize => HiddenSize / NumAttentionHeads;
    /// <summary>Rotary dims per head: int(head_size · rotary_pct), as transformers truncates.</summary>
    [JsonIgnore] public int RotaryNdims => (int)(HeadSize * RotaryPct);

    static readonly string[] SupportedActivations = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "silu"];

    /// <summary>Reads and validates a config.json.</summary>
    public static GptNeoXConfig Load(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new MlsaeException($"{path}: not a JSON object"); }
        catch (JsonException e) { throw MlsaeException.From($"{path}: invalid JSON", e); }
        return FromJson(json, path);
    }

    /// <summary>Builds a config from parsed JSON; <paramref name="source"/> names it in errors.</summary>
    public static GptNeoXConfig FromJson(JsonObject json, string source)
    {
        string? modelType = Str(json, "model_type");
        if (modelType is not null && modelType != ModelType)
            throw new MlsaeException($"{source}: model_type '{modelType}' is not supported (only {ModelType})");
        if (json["rope_scaling"] is JsonNode scaling && scaling.GetValueKind() != JsonValueKind.Null)
            throw new MlsaeException($"{source}: rope_scaling {scaling.ToJsonString()} is not supported");
        double? theta = Num(json, "rotary_emb_base") ?? Num(json, "rope_theta");
        double? pct = Num(json, "rotary_pct") ?? Num(json, "partial_rotary_factor");
        if (json["rope_parameters"] is JsonObject rope)
        {
            string ropeType = Str(rope, "rope_type") ?? Str(rope, "type") ?? "default";
            if (ropeType != "default")
                throw new MlsaeException($"{source}: rope_parameters.rope_type '{ropeType}' is not supported (only default)");
            theta ??= Num(rope, "rope_theta");
            pct ??= Num(rope, "partial_rotary_factor");
        }
        var d = new GptNeoXConfig();
        var config = new GptNeoXConfig
        {
            HiddenSize = Int(json, "hidden_size", source) ?? d.HiddenSize,
            NumAttentionHeads = Int(json, "num_attention_heads", source) ?? d.NumAttentionHeads,
            NumHiddenLayers = Int(json, "num_hidden_layers", source) ?? d.NumHiddenLayers,
            IntermediateSize = Int(json, "intermediate_size", source) ?? d.IntermediateSize,
            VocabSize = Int(json, "vocab_size", source) ?? d.VocabSize,
            MaxPositionEmbeddings = Int(json, "max_position_embeddings", source) ?? d.MaxPositionEmbeddings,
            LayerNormEps = Num(json, "layer_norm_eps") ?? d.LayerNormEps,
            RotaryPct = pct ?? d.RotaryPct,
            RotaryEmbBase = theta ?? d.RotaryEmbBase,
            UseParallelResidual = Bool(json, "use_parallel_residual") ?? d.UseParallelResidual,
            HiddenAct = Str(json, "hidden_act") ?? d.HiddenAct,
            AttentionBias = Bool(json, "attention_bias") ?? d.AttentionBias,
            TieWordEmbeddings = Bool(json, "tie_word_embeddings") ?? d.TieWordEmbeddings,
            TorchDtype = Str(json, "torch_dtype") ?? Str(json, "dtype") ?? d.TorchDtype,
            BosTokenId = Id(json, "bos_token_id"),
            EosTokenId = Id(json, "eos_token_id"),
            PadTokenId = Id(json, "pad_token_id"),
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Throws <see cref="MlsaeException"/> naming <paramref name="source"/> and the key
    /// for any value this port cannot run faithfully.</summary>
    public void Validate(string source = "config")
    {
        void Positive(int v, string key) { if (v <= 0) throw new MlsaeException($"{source}: {key} must be positive, got {v}"); }
        Positive(HiddenSize, "hidden_size");
        Positive(NumAttentionHeads, "num_attention_heads");
        Positive(NumHiddenLayers, "num_hidden_layers");
        Positive(IntermediateSize, "intermediate_size");
        Positive(VocabSize, "vocab_size");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        if (HiddenSize % NumAttentionHeads != 0)
            throw new MlsaeException($"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}");
        if (!(RotaryPct >= 0 && RotaryPct <= 1))
            throw new MlsaeException($"{source}: rotary_pct {RotaryPct} must be in [0, 1]");
        if (RotaryNdims % 2 != 0)
            throw new MlsaeException($"{source}: rotary dims int({HeadSize}·{RotaryPct}) = {RotaryNdims} must be even");
        if (!(RotaryEmbBase > 0))
            throw new MlsaeException($"{source}: rotary_emb_base {RotaryEmbBase} must be positive");
        if (!(LayerNormEps > 0))
            throw new MlsaeException($"{source}: layer_norm_eps {LayerNormEps} must be positive");
        if (!SupportedActivations.Contains(HiddenAct))
            throw new MlsaeException($"{source}: hidden_act '{HiddenAct}' is not supported (supported: {string.Join(", ", SupportedActivations)})");
        if (TorchDtype is not ("float32" or "float16" or "bfloat16" or "float64"))
            throw new MlsaeException($"{source}: torch_dtype '{TorchDtype}' is not supported (float32, float16, bfloat16)");
    }

    /// <summary>Writes the config as transformers does for Pythia checkpoints (classic keys).</summary>
    public string ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("GPTNeoXForCausalLM"),
            ["attention_bias"] = AttentionBias,
            ["attention_dropout"] = 0.0,
            ["bos_token_id"] = BosTokenId,
            ["classifier_dropout"] = 0.1,
            ["eos_token_id"] = EosTokenId,
            ["hidden_act"] = HiddenAct,
            ["hidden_dropout"] = 0.0,
            ["hidden_size"] = HiddenSize,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = IntermediateSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["model_type"] = ModelType,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["rope_scaling"] = null,
            ["rotary_emb_base"] = RotaryEmbBase,
            ["rotary_pct"] = RotaryPct,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["torch_dtype"] = TorchDtype,
            ["transformers_version"] = "4.42.4",
            ["use_cache"] = true,
            ["use_parallel_residual"] = UseParallelResidual,
            ["vocab_size"] = VocabSize,
        };
        if (PadTokenId is long pad) json["pad_token_id"] = pad;
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    static string? Str(JsonObject j, string key) =>
        j[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    static double? Num(JsonObject j, string key) =>
        j[key] is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : null;

    static bool? Bool(JsonObject j, string key) =>
        j[key] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    static int? Int(JsonObject j, string key, string source)
    {
        var n = Num(j, key);
        if (n is null) return null;
        if (n != Math.Floor(n.Value) || n > int.MaxValue) throw new MlsaeException($"{source}: {key} must be an integer, got {n}");
        return (int)n.Value;
    }

    static long? Id(JsonObject j, string key) => j[key] switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => (long)v.GetValue<double>(),
        // Some configs list several eos ids; the first is the one tokenizers report.
        JsonArray { Count: > 0 } a when a[0] is JsonValue first && first.GetValueKind() == JsonValueKind.Number => (long)first.GetValue<double>(),
        _ => null,
    };
}

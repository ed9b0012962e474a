using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mlsae.Tokenization;

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

    // Upper bounds far past any real model (Pythia-12B: d_model 5120, 36 layers, vocab 50688), so a
    // corrupt or hostile config.json fails here, naming the field, instead of allocating gigabytes.
    const int MaxHiddenSize = 1 << 17;
    const int MaxLayers = 1024;
    const int MaxIntermediateSize = 1 << 20;
    const int MaxVocabSize = 1 << 22;
    const int MaxPositions = 1 << 24;

    /// <summary>Reads and validates a config.json. A field of the wrong JSON type or out of range is an
    /// <see cref="MlsaeException"/> naming the file and the field:
    /// <c>config.json: "hidden_size" must be an integer, got "64"</c>.</summary>
    public static GptNeoXConfig Load(string path)
    {
        using var doc = JsonFields.Parse(path);
        return FromJson(JsonFields.RootObject(doc, path), path);
    }

    /// <summary>Builds a config from parsed JSON; <paramref name="source"/> names it in errors.</summary>
    public static GptNeoXConfig FromJson(JsonObject json, string source)
    {
        string text;
        // A tree parsed from text holding a lone surrogate escape cannot be written back out.
        try { text = json.ToJsonString(); }
        catch (InvalidOperationException) { throw new MlsaeException($"{source}: holds text that is not valid Unicode (a lone surrogate escape?)"); }
        using var doc = JsonDocument.Parse(text);
        return FromJson(doc.RootElement, source);
    }

    static GptNeoXConfig FromJson(JsonElement json, string source)
    {
        var at = JsonAt.Root(source);
        string? modelType = JsonFields.OptString(json, at, "model_type");
        if (modelType is not null && modelType != ModelType)
            throw new MlsaeException($"{source}: model_type '{modelType}' is not supported (only {ModelType})");
        if (JsonFields.Get(json, "rope_scaling") is { } scaling)
            throw at["rope_scaling"].Error($"{Clip(scaling.GetRawText())} is not supported");
        // Both spellings are read (and type-checked) before the classic one is preferred.
        double? classicTheta = JsonFields.OptNumber(json, at, "rotary_emb_base"), newerTheta = JsonFields.OptNumber(json, at, "rope_theta");
        double? classicPct = JsonFields.OptNumber(json, at, "rotary_pct"), newerPct = JsonFields.OptNumber(json, at, "partial_rotary_factor");
        string? classicDtype = JsonFields.OptString(json, at, "torch_dtype"), newerDtype = JsonFields.OptString(json, at, "dtype");
        double? theta = classicTheta ?? newerTheta, pct = classicPct ?? newerPct;
        if (JsonFields.OptObject(json, at, "rope_parameters") is { } rope)
        {
            var ropeAt = at["rope_parameters"];
            string ropeType = JsonFields.OptString(rope, ropeAt, "rope_type") ?? JsonFields.OptString(rope, ropeAt, "type") ?? "default";
            if (ropeType != "default")
                throw new MlsaeException($"{source}: rope_parameters.rope_type '{ropeType}' is not supported (only default)");
            double? ropeTheta = JsonFields.OptNumber(rope, ropeAt, "rope_theta"), ropePct = JsonFields.OptNumber(rope, ropeAt, "partial_rotary_factor");
            theta ??= ropeTheta;
            pct ??= ropePct;
        }
        var d = new GptNeoXConfig();
        // Sizes, flags, eps and activation have no meaningful null: present means typed. Aliased keys,
        // ids, dtype and the rope objects may be null (transformers writes null for "not set").
        JsonElement? Present(string key) => json.TryGetProperty(key, out var v) ? v : null;
        int Int(string key, int fallback, int max) =>
            Present(key) is { } v ? CheckSize(at[key], JsonFields.Integer(v, at[key]), max) : fallback;
        bool Bool(string key, bool fallback) => Present(key) is { } v ? JsonFields.Bool(v, at[key]) : fallback;
        var config = new GptNeoXConfig
        {
            HiddenSize = Int("hidden_size", d.HiddenSize, MaxHiddenSize),
            NumAttentionHeads = Int("num_attention_heads", d.NumAttentionHeads, MaxHiddenSize),
            NumHiddenLayers = Int("num_hidden_layers", d.NumHiddenLayers, MaxLayers),
            IntermediateSize = Int("intermediate_size", d.IntermediateSize, MaxIntermediateSize),
            VocabSize = Int("vocab_size", d.VocabSize, MaxVocabSize),
            MaxPositionEmbeddings = Int("max_position_embeddings", d.MaxPositionEmbeddings, MaxPositions),
            LayerNormEps = Present("layer_norm_eps") is { } eps ? JsonFields.Number(eps, at["layer_norm_eps"]) : d.LayerNormEps,
            RotaryPct = pct ?? d.RotaryPct,
            RotaryEmbBase = theta ?? d.RotaryEmbBase,
            UseParallelResidual = Bool("use_parallel_residual", d.UseParallelResidual),
            HiddenAct = Present("hidden_act") is { } act ? JsonFields.String(act, at["hidden_act"]) : d.HiddenAct,
            AttentionBias = Bool("attention_bias", d.AttentionBias),
            TieWordEmbeddings = Bool("tie_word_embeddings", d.TieWordEmbeddings),
            TorchDtype = classicDtype ?? newerDtype ?? d.TorchDtype,
            BosTokenId = Id(json, at, "bos_token_id"),
            EosTokenId = Id(json, at, "eos_token_id"),
            PadTokenId = Id(json, at, "pad_token_id"),
        };
        config.Validate(source);
        return config;
    }

    /// <summary>Throws <see cref="MlsaeException"/> naming <paramref name="source"/> and the field
    /// for any value out of range or that this port cannot run faithfully.</summary>
    public void Validate(string source = "config")
    {
        var at = JsonAt.Root(source);
        void InRange(int v, string key, int max) => CheckSize(at[key], v, max);
        InRange(HiddenSize, "hidden_size", MaxHiddenSize);
        InRange(NumAttentionHeads, "num_attention_heads", MaxHiddenSize);
        InRange(NumHiddenLayers, "num_hidden_layers", MaxLayers);
        InRange(IntermediateSize, "intermediate_size", MaxIntermediateSize);
        InRange(VocabSize, "vocab_size", MaxVocabSize);
        InRange(MaxPositionEmbeddings, "max_position_embeddings", MaxPositions);
        if (HiddenSize % NumAttentionHeads != 0)
            throw at["num_attention_heads"].Error($"must divide \"hidden_size\" (hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads})");
        if (!(RotaryPct > 0 && RotaryPct <= 1))
            throw at["rotary_pct"].Error($"must be in (0, 1], got {RotaryPct}");
        if (RotaryNdims % 2 != 0)
            throw at["rotary_pct"].Error($"gives odd rotary dims int({HeadSize}·{RotaryPct}) = {RotaryNdims}; they must be even");
        if (!(RotaryEmbBase > 0 && double.IsFinite(RotaryEmbBase)))
            throw at["rotary_emb_base"].Error($"must be a positive number, got {RotaryEmbBase}");
        if (!(LayerNormEps > 0 && double.IsFinite(LayerNormEps)))
            throw at["layer_norm_eps"].Error($"must be a positive number, got {LayerNormEps}");
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

    static int CheckSize(JsonAt at, long v, int max)
    {
        if (v <= 0) throw at.Error($"must be positive, got {v}");
        if (v > max) throw at.Error($"must be at most {max}, got {v} (larger than any real model: a corrupt config?)");
        return (int)v;
    }

    /// <summary>A token id: an integer or null; eos may be a list, whose first entry tokenizers report.</summary>
    static long? Id(JsonElement json, JsonAt at, string key)
    {
        if (JsonFields.Get(json, key) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Array) return JsonFields.Integer(v, at[key]);
        long? first = null;
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            long id = JsonFields.Integer(item, at[key][i++]);
            first ??= id;
        }
        return first;
    }

    static string Clip(string s) => s.Length <= 60 ? s : s[..57] + "…";
}

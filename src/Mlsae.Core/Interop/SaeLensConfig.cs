using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Tokenization;

namespace Mlsae.Interop;

/// <summary>
/// SAELens's <c>cfg.json</c> for a TopK SAE, read in the layouts its versions wrote and written in
/// the newest. SAELens 6 (<c>metadata.sae_lens_version</c> ≥ 6) nests the model and hook under
/// <c>metadata</c> and names the architecture <c>topk</c> with a top-level <c>k</c>; earlier
/// versions keep them at the top level (<c>hook_name</c>/<c>hook_layer</c>, before that
/// <c>hook_point</c>/<c>hook_point_layer</c>) and spell TopK as <c>activation_fn_str</c> (or
/// <c>activation_fn</c>) <c>topk</c> with <c>activation_fn_kwargs.k</c>, which SAELens 6 converts
/// (<c>handle_pre_6_0_config</c>). What a TopK residual SAE cannot be here is refused with the key
/// named: another architecture, <c>hook_z</c> reshaping, a head index, a fine-tuning scaling
/// factor, a model loaded with <c>center_writing_weights</c>.
/// </summary>
internal static class SaeLensConfig
{
    /// <summary>The SAELens release whose layout <see cref="Write"/> reproduces (its <c>SAE.save_model</c>).</summary>
    public const string LayoutVersion = "6.18.0";

    static readonly string[] DTypes = ["float32", "float64", "float16", "bfloat16", "torch.float32", "torch.float64", "torch.float16", "torch.bfloat16"];

    /// <summary>Reads <paramref name="path"/> (a <c>cfg.json</c>); <paramref name="scalerPath"/> is the
    /// <c>activation_scaler.json</c> beside it, read for <c>expected_average_only_in</c>.</summary>
    public static ExternalSaeConfig Read(string path, string scalerPath)
    {
        using var doc = JsonFields.Parse(path);
        var root = JsonFields.RootObject(doc, path);
        var at = JsonAt.Root(path);
        var metadata = JsonFields.OptObject(root, at, "metadata");
        var metaAt = at["metadata"];
        string? version = (metadata is { } m ? JsonFields.OptString(m, metaAt, "sae_lens_version") : null)
            ?? JsonFields.OptString(root, at, "sae_lens_version");
        bool v6 = version is not null && Major(version, path) >= 6;

        // SAELens 6 reads the model and hook from metadata (absent: an undefined element, no fields);
        // older layouts keep them at the top level.
        var (info, infoAt) = v6 ? (metadata ?? default, metaAt) : (root, at);
        string? Info(params string[] keys)
        {
            foreach (var key in keys)
                if (JsonFields.OptString(info, infoAt, key) is { } s) return s;
            return null;
        }
        string? hookName = Info("hook_name", "hook_point");
        string? modelName = Info("model_name");
        foreach (var key in new[] { "hook_head_index", "hook_point_head_index" })
            if (JsonFields.Get(info, key) is { } head)
                throw infoAt[key].Error($"is {JsonAt.Show(head)}: SAEs on one attention head's output are not residual-stream SAEs");
        if (JsonFields.OptObject(info, infoAt, "model_from_pretrained_kwargs") is { } kwargs
            && JsonFields.OptBool(kwargs, infoAt["model_from_pretrained_kwargs"], "center_writing_weights") == true)
            throw infoAt["model_from_pretrained_kwargs"]["center_writing_weights"].Error(
                "is true: the SAE was trained on TransformerLens's centred residual stream (each vector minus its mean), not the model's own block outputs");

        int k = v6 ? V6Architecture(root, at) : Pre6Architecture(root, at);
        string dtype = JsonFields.OptString(root, at, "dtype") ?? "float32";
        if (!DTypes.Contains(dtype)) throw at["dtype"].Error($"must be one of {string.Join(", ", DTypes)}, got {JsonAt.Quote(dtype)}");
        string reshape = JsonFields.OptString(root, at, "reshape_activations")
            ?? (!v6 && hookName is not null && hookName.Contains("hook_z") ? "hook_z" : "none");
        if (reshape != "none")
            throw at["reshape_activations"].Error($"is {JsonAt.Quote(reshape)}: only residual-stream SAEs (reshape_activations none) are read");
        if (!v6 && JsonFields.OptBool(root, at, "finetuning_scaling_factor") == true)
            throw at["finetuning_scaling_factor"].Error("is true: SAEs with a fine-tuning scaling factor are not read");

        var normalization = Normalization(root, at, v6);
        return new ExternalSaeConfig
        {
            NInputs = JsonFields.Integer(JsonFields.Required(root, at, "d_in"), at["d_in"], 1, int.MaxValue),
            NLatents = JsonFields.Integer(JsonFields.Required(root, at, "d_sae"), at["d_sae"], 1, int.MaxValue),
            K = k,
            Activation = ExternalActivation.TopKThenRelu,
            SubtractDecoderBias = JsonFields.OptBool(root, at, "apply_b_dec_to_input") ?? true,
            Normalization = normalization,
            ScalingFactor = normalization == InputNormalization.ExpectedAverageOnlyIn ? ScalingFactor(path, scalerPath) : null,
            RescaleByDecoderNorm = JsonFields.OptBool(root, at, "rescale_acts_by_decoder_norm") ?? false,
            Format = ExternalSaeFormat.SaeLens,
            Hookpoint = hookName,
            ModelName = modelName,
        }.Validate(path);
    }

    static int Major(string version, string path)
    {
        int dot = version.IndexOf('.');
        return int.TryParse(dot < 0 ? version : version[..dot], System.Globalization.NumberStyles.None, null, out int major) ? major
            : throw new MlsaeException($"{path}: \"sae_lens_version\" must be a version such as {LayoutVersion}, got {JsonAt.Quote(version)}");
    }

    // SAELens 6: the architecture must be present (SAE.from_dict looks it up); k defaults to TopKSAEConfig's 100.
    static int V6Architecture(JsonElement root, JsonAt at)
    {
        string architecture = JsonFields.String(JsonFields.Required(root, at, "architecture"), at["architecture"]);
        RequireTopK(architecture, at);
        return JsonFields.Get(root, "k") is { } k ? JsonFields.Integer(k, at["k"], 1, int.MaxValue) : 100;
    }

    // Before 6: architecture defaults to standard, and an activation function topk with a k makes it TopK
    // (handle_pre_6_0_config); SAELens 5 raised on a TopK without k, and so does this reader.
    static int Pre6Architecture(JsonElement root, JsonAt at)
    {
        var fnKey = JsonFields.Get(root, "activation_fn_str") is not null ? "activation_fn_str" : "activation_fn";
        string? activation = JsonFields.OptString(root, at, fnKey);
        var kwargs = JsonFields.OptObject(root, at, "activation_fn_kwargs");
        long? kwargK = kwargs is { } kw ? JsonFields.OptInteger(kw, at["activation_fn_kwargs"], "k") : null;
        string architecture = activation == "topk" && kwargK is not null ? "topk" : JsonFields.OptString(root, at, "architecture") ?? "standard";
        RequireTopK(architecture, at);
        if (activation is not null && activation != "topk")
            throw at[fnKey].Error($"is {JsonAt.Quote(activation)}, but the architecture is topk");
        long k = kwargK ?? JsonFields.OptInteger(root, at, "k")
            ?? throw at["activation_fn_kwargs"]["k"].Error("is missing (a TopK SAE needs k)");
        return k >= 1 && k <= int.MaxValue ? (int)k : throw at["activation_fn_kwargs"]["k"].Error($"must be a positive integer, got {k}");
    }

    static void RequireTopK(string architecture, JsonAt at)
    {
        if (architecture != "topk")
            throw at["architecture"].Error($"is {JsonAt.Quote(architecture)}: only TopK SAEs (architecture topk) are read" +
                (architecture == "standard" ? " (a standard SAE is ReLU-sparse, not TopK)" : ""));
    }

    static InputNormalization Normalization(JsonElement root, JsonAt at, bool v6)
    {
        var value = JsonFields.Get(root, "normalize_activations");
        if (value is null) return InputNormalization.None;
        // Before SAELens 6 the key was once a boolean: true meant expected_average_only_in.
        if (!v6 && value.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            return value.Value.ValueKind == JsonValueKind.True ? InputNormalization.ExpectedAverageOnlyIn : InputNormalization.None;
        return JsonFields.String(value.Value, at["normalize_activations"]) switch
        {
            "none" => InputNormalization.None,
            "expected_average_only_in" => InputNormalization.ExpectedAverageOnlyIn,
            "constant_norm_rescale" => InputNormalization.ConstantNormRescale,
            "layer_norm" => InputNormalization.LayerNorm,
            var other => throw at["normalize_activations"].Error(
                $"must be none, expected_average_only_in, constant_norm_rescale or layer_norm, got {JsonAt.Quote(other)}"),
        };
    }

    // SAELens keeps the factor of expected_average_only_in beside the weights only in its training
    // checkpoints (activation_scaler.json); a final SAE has it folded into the weights and says none.
    static double ScalingFactor(string path, string scalerPath)
    {
        if (!File.Exists(scalerPath))
            throw new MlsaeException($"{path}: \"normalize_activations\" is expected_average_only_in, but there is no {Path.GetFileName(scalerPath)} beside it with the scaling factor (the factor is not in the SAE's files)");
        using var doc = JsonFields.Parse(scalerPath);
        var root = JsonFields.RootObject(doc, scalerPath);
        var at = JsonAt.Root(scalerPath);
        return JsonFields.Number(JsonFields.Get(root, "scaling_factor")
            ?? throw at["scaling_factor"].Error("is missing or null (the factor was folded into the weights; the cfg.json should then say none)"), at["scaling_factor"]);
    }

    /// <summary>The <c>cfg.json</c> text SAELens 6's <c>SAE.save_model</c> writes for a TopK SAE
    /// (<c>TopKSAEConfig.to_dict</c> through <c>json.dump</c>). The weights are written as float32.</summary>
    public static string Write(ExternalSaeConfig config, string? hookName)
    {
        var metadata = new JsonObject
        {
            ["sae_lens_version"] = LayoutVersion,
            // Not trained by SAELens: no training version (SAELens reads null as unknown).
            ["sae_lens_training_version"] = null,
        };
        if (config.ModelName is not null) metadata["model_name"] = config.ModelName;
        if (hookName is not null) metadata["hook_name"] = hookName;
        metadata["hook_head_index"] = null;
        var node = new JsonObject
        {
            ["d_in"] = config.NInputs,
            ["d_sae"] = config.NLatents,
            ["dtype"] = "float32",
            ["device"] = "cpu",
            ["apply_b_dec_to_input"] = config.SubtractDecoderBias,
            ["normalize_activations"] = config.Normalization switch
            {
                InputNormalization.None => "none",
                InputNormalization.ExpectedAverageOnlyIn => "expected_average_only_in",
                InputNormalization.ConstantNormRescale => "constant_norm_rescale",
                InputNormalization.LayerNorm => "layer_norm",
                _ => throw new InvalidOperationException($"unknown normalization {config.Normalization}"),
            },
            ["reshape_activations"] = "none",
            ["metadata"] = metadata,
            ["k"] = config.K,
            ["rescale_acts_by_decoder_norm"] = config.RescaleByDecoderNorm,
            ["architecture"] = "topk",
        };
        return PythonJson.Dumps(node);
    }

    /// <summary>The <c>activation_scaler.json</c> text of SAELens's <c>ActivationScaler.save</c>.</summary>
    public static string WriteScaler(double scalingFactor) =>
        PythonJson.Dumps(new JsonObject { ["scaling_factor"] = Autoencoder.MlsaeConfig.PythonFloat(scalingFactor) });
}

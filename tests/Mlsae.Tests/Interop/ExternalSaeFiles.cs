using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Tests.Interop;

/// <summary>Random SAE weights, and SAE folders laid out as SAELens and sparsify write them: the
/// <c>cfg.json</c> text is what their <c>json.dump</c> writes (keys, order, separators) and the
/// safetensors keys, shapes and dtypes are theirs. The weights are the float32 values the
/// expected forward passes use (already rounded to the stored dtype).</summary>
public sealed record ExternalSaeFiles(Tensor Encoder, Tensor EncoderBias, Tensor Decoder, Tensor DecoderBias) : IDisposable
{
    /// <summary>Weights for D inputs and F latents: encoder [F, D], decoder [F, D] with non-unit row
    /// norms, both biases non-zero, every value representable in <paramref name="stored"/>.</summary>
    public static ExternalSaeFiles Random(int d, int f, long seed, ScalarType stored = ScalarType.Float32)
    {
        using var scope = NewDisposeScope();
        var g = new TorchSharp.torch.Generator((ulong)seed);
        Tensor Make(long[] shape, double scale) =>
            (randn(shape, generator: g) * scale).to(stored).to(ScalarType.Float32).DetachFromDisposeScope();
        return new ExternalSaeFiles(Make([f, d], 0.5), Make([f], 0.1), Make([f, d], 0.3), Make([d], 0.2));
    }

    /// <summary>Writes <c>sae_weights.safetensors</c> as SAELens's <c>save_file(state_dict)</c>:
    /// W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in] in <paramref name="dtype"/>.</summary>
    public void WriteSaeLens(string folder, string cfgJson, ScalarType dtype = ScalarType.Float32, Dictionary<string, Tensor>? extra = null)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["W_enc"] = Encoder.t().contiguous().to(dtype),
            ["b_enc"] = EncoderBias.to(dtype),
            ["W_dec"] = Decoder.to(dtype),
            ["b_dec"] = DecoderBias.to(dtype),
        };
        foreach (var (k, v) in extra ?? []) tensors[k] = v;
        SafeTensorsWriter.Write(Path.Combine(folder, "sae_weights.safetensors"), tensors);
        File.WriteAllText(Path.Combine(folder, "cfg.json"), cfgJson);
    }

    /// <summary>Writes <c>sae.safetensors</c> as sparsify's <c>save_model(sae)</c>: encoder.weight
    /// [F, D], encoder.bias [F], W_dec [F, D], b_dec [D] in <paramref name="dtype"/>.</summary>
    public void WriteSparsify(string folder, string cfgJson, ScalarType dtype = ScalarType.Float32, Dictionary<string, Tensor>? extra = null)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = Encoder.to(dtype),
            ["encoder.bias"] = EncoderBias.to(dtype),
            ["W_dec"] = Decoder.to(dtype),
            ["b_dec"] = DecoderBias.to(dtype),
        };
        foreach (var (k, v) in extra ?? []) tensors[k] = v;
        SafeTensorsWriter.Write(Path.Combine(folder, "sae.safetensors"), tensors);
        File.WriteAllText(Path.Combine(folder, "cfg.json"), cfgJson);
    }

    /// <summary>What SAELens 6.18's <c>save_inference_model</c> writes for a TopK SAE trained on
    /// Pythia-70m-deduped's <paramref name="hook"/>.</summary>
    public static string SaeLens6Cfg(int d, int f, int k, string hook = "blocks.3.hook_resid_post", string normalize = "none",
        bool applyBDec = true, bool rescale = true, string dtype = "float32") =>
        $"{{\"d_in\": {d}, \"d_sae\": {f}, \"dtype\": \"{dtype}\", \"device\": \"cuda\", \"apply_b_dec_to_input\": {Py(applyBDec)}, " +
        $"\"normalize_activations\": \"{normalize}\", \"reshape_activations\": \"none\", \"metadata\": {{\"sae_lens_version\": \"6.18.0\", " +
        $"\"sae_lens_training_version\": \"6.18.0\", \"model_name\": \"pythia-70m-deduped\", \"hook_name\": \"{hook}\", \"hook_head_index\": null, " +
        "\"prepend_bos\": true, \"dataset_path\": \"monology/pile-uncopyrighted\", \"context_size\": 1024, \"model_class_name\": \"HookedTransformer\", " +
        "\"model_from_pretrained_kwargs\": {\"center_writing_weights\": false}, \"seqpos_slice\": [null], \"exclude_special_tokens\": false, " +
        $"\"neuronpedia_id\": null}}, \"k\": {k}, \"rescale_acts_by_decoder_norm\": {Py(rescale)}, \"architecture\": \"topk\"}}";

    /// <summary>What SAELens 5's <c>SAEConfig.to_dict</c> writes for a TopK SAE.</summary>
    public static string SaeLens5Cfg(int d, int f, int k, string hook = "blocks.2.hook_resid_pre", int hookLayer = 2) =>
        $"{{\"architecture\": \"topk\", \"d_in\": {d}, \"d_sae\": {f}, \"dtype\": \"float32\", \"device\": \"cuda\", \"model_name\": \"pythia-70m-deduped\", " +
        $"\"hook_name\": \"{hook}\", \"hook_layer\": {hookLayer}, \"hook_head_index\": null, \"activation_fn_str\": \"topk\", \"activation_fn_kwargs\": {{\"k\": {k}}}, " +
        "\"apply_b_dec_to_input\": true, \"finetuning_scaling_factor\": false, \"sae_lens_training_version\": \"5.3.0\", \"prepend_bos\": true, " +
        "\"dataset_path\": \"monology/pile-uncopyrighted\", \"dataset_trust_remote_code\": true, \"context_size\": 128, \"normalize_activations\": \"none\", " +
        "\"neuronpedia_id\": null, \"model_from_pretrained_kwargs\": {\"center_writing_weights\": false}, \"seqpos_slice\": [null]}";

    /// <summary>What the newest sparsify's <c>save_to_disk</c> writes (<c>num_latents</c> 0: F = D · expansion_factor).</summary>
    public static string SparsifyCfg(int d, int expansion, int k, string activation = "topk") =>
        $"{{\"activation\": \"{activation}\", \"expansion_factor\": {expansion}, \"normalize_decoder\": true, \"num_latents\": 0, \"k\": {k}, " +
        $"\"multi_topk\": false, \"skip_connection\": false, \"transcode\": false, \"d_in\": {d}}}";

    /// <summary>What sparsify wrote in mid-2024 (the <c>sae</c> package, as in
    /// <c>EleutherAI/sae-pythia-70m-32k</c>'s <c>layers.3/cfg.json</c>).</summary>
    public static string Sparsify2024Cfg(int d, int f, int k, bool signed = false) =>
        $"{{\"expansion_factor\": {f / d}, \"normalize_decoder\": true, \"num_latents\": {f}, \"k\": {k}, \"signed\": {Py(signed)}, \"d_in\": {d}}}";

    static string Py(bool b) => b ? "true" : "false";

    /// <inheritdoc />
    public void Dispose()
    {
        Encoder.Dispose();
        EncoderBias.Dispose();
        Decoder.Dispose();
        DecoderBias.Dispose();
    }
}

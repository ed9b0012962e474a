using System.Text.Json.Nodes;
using Mlsae.Tokenization;

namespace Mlsae.Interop;

/// <summary>
/// sparsify's <c>cfg.json</c>: its <c>SparseCoderConfig</c> (before February 2025 <c>SaeConfig</c>)
/// fields and <c>d_in</c>, with the dataclass's defaults for absent fields. Every key any version
/// wrote is known; what changes the forward pass beyond a TopK SAE (<c>multi_topk</c>, whose
/// forward returns the 4k reconstruction, <c>skip_connection</c>, <c>transcode</c>) is refused with
/// the key named, and so is any key this reader does not know, rather than guess what it changes.
/// </summary>
internal static class SparsifyConfig
{
    static readonly HashSet<string> Known =
        ["activation", "expansion_factor", "normalize_decoder", "num_latents", "k", "multi_topk", "skip_connection", "transcode", "signed", "d_in"];

    /// <summary>Reads <paramref name="path"/>; <paramref name="hookpoint"/> and <paramref name="modelName"/> are recorded.</summary>
    public static ExternalSaeConfig Read(string path, string? hookpoint, string? modelName)
    {
        using var doc = JsonFields.Parse(path);
        var root = JsonFields.RootObject(doc, path);
        var at = JsonAt.Root(path);
        foreach (var p in root.EnumerateObject())
            if (!Known.Contains(JsonFields.Name(p, at)))
                throw at[p.Name].Error("is not a key of sparsify's SparseCoderConfig that this reader knows, so what it changes in the SAE is unknown");
        int dIn = JsonFields.Integer(JsonFields.Required(root, at, "d_in"), at["d_in"], 1, int.MaxValue);
        long expansion = JsonFields.OptInteger(root, at, "expansion_factor") ?? 32;
        long numLatents = JsonFields.OptInteger(root, at, "num_latents") ?? 0;
        // SparseCoder.__init__: num_latents or d_in * expansion_factor.
        long latents = numLatents != 0 ? numLatents : dIn * expansion;
        if (latents <= 0 || latents > int.MaxValue)
            throw at[numLatents != 0 ? "num_latents" : "expansion_factor"].Error($"gives {latents} latents, not a positive count");
        long k = JsonFields.OptInteger(root, at, "k") ?? 32;
        if (k <= 0 || k > latents) throw at["k"].Error($"must be in 1..{latents} (the number of latents), got {k}");
        foreach (var key in new[] { "multi_topk", "skip_connection", "transcode" })
            if (JsonFields.OptBool(root, at, key) == true) throw at[key].Error(Refusal(key));
        JsonFields.OptBool(root, at, "normalize_decoder");   // training only: checked for type, not used
        string activationName = JsonFields.OptString(root, at, "activation") ?? "topk";
        bool signed = JsonFields.OptBool(root, at, "signed") ?? false;
        var activation = activationName switch
        {
            "topk" => signed ? ExternalActivation.SignedTopK : ExternalActivation.ReluThenTopK,
            "groupmax" when !signed => ExternalActivation.GroupMax,
            "groupmax" => throw at["signed"].Error("is true with activation groupmax, which sparsify never combined"),
            var other => throw at["activation"].Error($"must be topk or groupmax, got {JsonAt.Quote(other)}"),
        };
        return new ExternalSaeConfig
        {
            NInputs = dIn,
            NLatents = (int)latents,
            K = (int)k,
            Activation = activation,
            SubtractDecoderBias = true,
            Format = ExternalSaeFormat.Sparsify,
            Hookpoint = hookpoint,
            ModelName = modelName,
        }.Validate(path);
    }

    static string Refusal(string key) => key switch
    {
        "multi_topk" => "is true: a Multi-TopK SAE's forward returns the reconstruction from 4k latents, not k; not read",
        "skip_connection" => "is true: SAEs with a linear skip connection (W_skip) are not read",
        _ => "is true: transcoders (predicting a module's output from its input) are not autoencoders of the residual stream; not read",
    };

    /// <summary>
    /// The <c>cfg.json</c> text the newest sparsify's <c>save_to_disk</c> writes
    /// (<c>{**cfg.to_dict(), "d_in": d_in}</c> through <c>json.dump</c>). The training-only fields get
    /// sparsify's defaults (<c>normalize_decoder</c> true, <c>multi_topk</c> false);
    /// <c>expansion_factor</c> is F/D when whole, else sparsify's default 32 (unused: <c>num_latents</c> is set).
    /// </summary>
    public static string Write(ExternalSaeConfig config) => PythonJson.Dumps(new JsonObject
    {
        ["activation"] = config.Activation == ExternalActivation.GroupMax ? "groupmax" : "topk",
        ["expansion_factor"] = config.NLatents % config.NInputs == 0 ? config.NLatents / config.NInputs : 32,
        ["normalize_decoder"] = true,
        ["num_latents"] = config.NLatents,
        ["k"] = config.K,
        ["multi_topk"] = false,
        ["skip_connection"] = false,
        ["transcode"] = false,
        ["d_in"] = config.NInputs,
    });
}

using System.Text.Json.Nodes;
using Mlsae.Coders;
using Mlsae.Hub;
using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// The reference's on-disk format, both ways: a folder with <c>config.json</c> (the
/// <c>MLSAE.__init__</c> arguments) and <c>model.safetensors</c> (<c>encoder.weight</c> [F, D],
/// <c>decoder.weight</c> [D, F], <c>pre_encoder_bias</c> [D], optional <c>last_nonzero</c> [F]).
/// Its <c>-tfm</c> variant (the Lightning module saved the same way) is read too: the config holds
/// <c>MLSAETransformer</c> arguments such as <c>model_name</c>, and the SAE keys carry the
/// <c>autoencoder.</c> prefix. This is the one place where the decoder is transposed between the
/// reference's <c>[D, F]</c> and this library's <c>[F, D]</c>.
/// </summary>
public static class MlsaeCheckpoint
{
    /// <summary>The files of a checkpoint folder.</summary>
    public const string ConfigFile = "config.json", WeightsFile = "model.safetensors";

    /// <summary>A loaded checkpoint: the autoencoder and, for <c>-tfm</c> checkpoints, the transformer arguments.</summary>
    public sealed record Loaded(MlsaeAutoencoder Autoencoder, JsonObject? TransformerArguments) : IDisposable
    {
        /// <summary><c>model_name</c> of a <c>-tfm</c> checkpoint.</summary>
        public string? ModelName => TransformerArguments?["model_name"]?.GetValue<string>();
        /// <summary><c>tuned_lens</c> of a <c>-tfm</c> checkpoint: trained on the pretrained lens's vectors.</summary>
        public bool TunedLens => TransformerArguments?["tuned_lens"]?.GetValue<bool>() ?? false;
        /// <summary><c>layers</c> of a <c>-tfm</c> checkpoint, when given.</summary>
        public int[]? Layers => TransformerArguments?["layers"] is JsonArray a ? a.Select(v => v!.GetValue<int>()).ToArray() : null;
        /// <inheritdoc />
        public void Dispose() => Autoencoder.Dispose();
    }

    /// <summary>Loads a checkpoint folder with <paramref name="settings"/>. The dead-latent counters
    /// start from <c>last_nonzero</c> when present, else zero. <see cref="SparseCoderRegistry.Load"/>
    /// picks this loader for a config without <c>kind</c>.</summary>
    public static Loaded Load(string folder, SparseCoderSettings settings, Device? device = null)
    {
        var configPath = Path.Combine(folder, ConfigFile);
        var weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(configPath)) throw new MlsaeException($"{folder}: no {ConfigFile} (not an MLSAE checkpoint folder)");
        if (!File.Exists(weightsPath)) throw new MlsaeException($"{folder}: no {WeightsFile}");
        var json = File.ReadAllText(configPath);
        JsonObject node;
        try { node = JsonNode.Parse(json) as JsonObject ?? throw new MlsaeException($"{configPath}: expected a JSON object"); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { throw MlsaeException.From($"{configPath}: malformed JSON", e); }
        bool transformer = node.ContainsKey("model_name") || node.ContainsKey("expansion_factor");
        if (transformer) CheckTransformerArguments(node, configPath);
        string prefix = transformer ? "autoencoder." : "";
        using var scope = NewDisposeScope();
        using var file = SafeTensorsFile.Open(weightsPath);
        Tensor Read(string key)
        {
            if (!file.Names.Contains(prefix + key)) throw new MlsaeException($"{weightsPath}: missing tensor '{prefix + key}'");
            var t = file.Read(prefix + key);
            // An integer tensor cast to float would be a silent wrong SAE (latents of 3e10), not a checkpoint.
            if (!t.is_floating_point()) throw new MlsaeException($"{weightsPath}: tensor '{prefix + key}' is {t.dtype}, not a floating-point weight");
            return t;
        }
        var encoder = Read("encoder.weight");
        var decoder = Read("decoder.weight");
        var bias = Read("pre_encoder_bias");
        if (encoder.dim() != 2) throw new MlsaeException($"{weightsPath}: encoder.weight must be [n_latents, n_inputs], got {Tensors.Shapes.Format(encoder.shape)}");
        var config = transformer ? FromTransformerArguments(node, encoder.shape, configPath) : MlsaeConfig.FromJson(json, configPath);
        Tensors.Shapes.Check(encoder, $"{weightsPath}: encoder.weight", config.NLatents, config.NInputs);
        Tensors.Shapes.Check(decoder, $"{weightsPath}: decoder.weight", config.NInputs, config.NLatents);
        Tensors.Shapes.Check(bias, $"{weightsPath}: pre_encoder_bias", config.NInputs);
        var autoencoder = new MlsaeAutoencoder(config, encoder, decoder.t(), bias, settings, device ?? CPU);
        if (file.Names.Contains(prefix + "last_nonzero"))
        {
            var lastNonzero = file.Read(prefix + "last_nonzero");
            Tensors.Shapes.Check(lastNonzero, $"{weightsPath}: last_nonzero", config.NLatents);
            autoencoder.DeadLatents.Load(lastNonzero.to(ScalarType.Int64), null);
        }
        return new Loaded(autoencoder, transformer ? node : null);
    }

    /// <summary>Checks the <c>-tfm</c> arguments this tool reads, so that reading them later cannot fail.</summary>
    static void CheckTransformerArguments(JsonObject node, string where)
    {
        if (node["model_name"] is JsonNode name && name.GetValueKind() != System.Text.Json.JsonValueKind.String)
            throw new MlsaeException($"{where}: \"model_name\" must be a string, got {name.ToJsonString()}");
        if (node["layers"] is JsonNode layers
            && (layers is not JsonArray list || list.Any(v => v is null || v.GetValueKind() != System.Text.Json.JsonValueKind.Number || !v.AsValue().TryGetValue<int>(out int l) || l < 0)))
            throw new MlsaeException($"{where}: \"layers\" must be a list of layer indices, got {layers.ToJsonString()}");
        if (node["tuned_lens"] is JsonNode lens && lens.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
            throw new MlsaeException($"{where}: \"tuned_lens\" must be true or false, got {lens.ToJsonString()}");
        foreach (var key in new[] { "batch_size", "max_length", "accumulate_grad_batches" })
            if (node[key] is JsonNode v && (v.GetValueKind() != System.Text.Json.JsonValueKind.Number || !v.AsValue().TryGetValue<long>(out long n) || n <= 0))
                throw new MlsaeException($"{where}: \"{key}\" must be a positive integer, got {v.ToJsonString()}");
    }

    static MlsaeConfig FromTransformerArguments(JsonObject node, long[] encoderShape, string where)
    {
        try
        {
            long TokensPerStep() => (node["batch_size"]?.GetValue<long>() ?? 1) * (node["max_length"]?.GetValue<long>() ?? 2048)
                * (node["accumulate_grad_batches"]?.GetValue<long>() ?? 64);
            return new MlsaeConfig
            {
                NInputs = (int)encoderShape[1],
                NLatents = (int)encoderShape[0],
                K = node["k"]?.GetValue<int>() ?? 32,
                AuxK = node.ContainsKey("auxk") ? node["auxk"]?.GetValue<int>() : 256,
                DeadStepsThreshold = node["dead_steps_threshold"]?.GetValue<long>()
                    ?? (node["dead_tokens_threshold"]?.GetValue<long>() ?? 10_000_000) / TokensPerStep(),
                DeadThreshold = node["dead_threshold"]?.GetValue<double>() ?? 1e-3,
                Standardize = node["standardize"]?.GetValue<bool>() ?? true,
            }.Validate(where);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw MlsaeException.From($"{where}: not a valid MLSAETransformer config", e);
        }
    }

    /// <summary>Writes the reference's two files into <paramref name="folder"/>, each atomically:
    /// the same JSON text, keys, dtypes and shapes the reference writes. <c>last_nonzero</c> is
    /// included unless <paramref name="withLastNonzero"/> is false (published checkpoints lack it).</summary>
    public static void Save(MlsaeAutoencoder autoencoder, string folder, bool withLastNonzero = true)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = autoencoder.Encoder.detach().cpu(),
            ["decoder.weight"] = autoencoder.Decoder.detach().t().contiguous().cpu(),
            ["pre_encoder_bias"] = autoencoder.PreEncoderBias.detach().cpu(),
        };
        if (withLastNonzero) tensors["last_nonzero"] = autoencoder.DeadLatents.LastNonzero.cpu();
        SafeTensorsWriter.Write(Path.Combine(folder, WeightsFile), tensors);
        AtomicFile.WriteText(Path.Combine(folder, ConfigFile), autoencoder.Config.ToJson());
    }

    /// <summary>
    /// Resolves <c>--sae</c>: a run folder or bare checkpoint folder on disk, else a hub id whose
    /// <c>config.json</c> and <c>model.safetensors</c> are fetched into the HF cache (for a per-layer
    /// family, as <c>mlsae push</c> uploads one, each <c>layer-N/</c>'s pair instead).
    /// </summary>
    public static string Resolve(string sae, string revision, Func<HubClient> hub)
    {
        if (Directory.Exists(sae)) return sae;
        if (File.Exists(sae)) throw new MlsaeException($"--sae: '{sae}' is a file; pass the folder holding {ConfigFile} and {WeightsFile}");
        if (!HubClient.LooksLikeRepoId(sae) || sae.StartsWith('.') || !sae.Contains('/'))
            throw new MlsaeException($"--sae: '{sae}' is neither a folder nor a hub id (org/name)");
        var client = hub();
        var config = client.File(sae, ConfigFile, revision)!;
        var folder = Path.GetDirectoryName(config)!;
        if (Coders.SparseCoderRegistry.KindOf(folder) == Coders.PerLayer.PerLayerFamily.KindName)
            foreach (var file in Coders.PerLayer.PerLayerCheckpoint.LayerFiles(config)) client.File(sae, file, revision);
        else client.File(sae, WeightsFile, revision);
        return folder;
    }
}

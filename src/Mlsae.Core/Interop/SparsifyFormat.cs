using Mlsae.IO;
using Mlsae.Tokenization;
using static TorchSharp.torch;

namespace Mlsae.Interop;

/// <summary>
/// EleutherAI sparsify's layout, both ways: one folder per hookpoint, named after it
/// (<c>layers.3</c>), holding <c>cfg.json</c> (<see cref="SparsifyConfig"/>) and
/// <c>sae.safetensors</c> with <c>encoder.weight</c> <c>[F, D]</c>, <c>encoder.bias</c> <c>[F]</c>,
/// <c>W_dec</c> <c>[F, D]</c> and <c>b_dec</c> <c>[D]</c>; a training run (and a hub repo such as
/// <c>EleutherAI/sae-pythia-70m-deduped-32k</c>) holds one such folder per hookpoint beside the
/// run's <c>config.json</c>, whose <c>model</c> names the model.
/// </summary>
public static class SparsifyFormat
{
    /// <summary>The files of a hookpoint folder, and the run config beside the folders.</summary>
    public const string ConfigFile = "cfg.json", WeightsFile = "sae.safetensors", RunConfigFile = "config.json";

    const string Expected = "a sparsify SAE holds encoder.weight, encoder.bias, W_dec and b_dec";

    /// <summary>Whether <paramref name="folder"/> holds a sparsify SAE (its two files).</summary>
    public static bool IsSaeFolder(string folder) =>
        File.Exists(Path.Combine(folder, ConfigFile)) && File.Exists(Path.Combine(folder, WeightsFile));

    /// <summary>Reads and checks the <c>cfg.json</c> of the hookpoint folder <paramref name="folder"/>
    /// (its name is the hookpoint) without the weights.</summary>
    public static ExternalSaeConfig ReadConfig(string folder)
    {
        var configPath = Path.Combine(folder, ConfigFile);
        if (!File.Exists(configPath)) throw new MlsaeException($"{folder}: no {ConfigFile} (not a sparsify SAE folder)");
        var full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        return SparsifyConfig.Read(configPath, Path.GetFileName(full), ModelName(Path.GetDirectoryName(full)));
    }

    /// <summary>Loads the hookpoint folder <paramref name="folder"/> onto <paramref name="device"/>
    /// (default CPU) in float32, strictly as sparsify's <c>load_model(strict=True)</c>.</summary>
    public static ExternalTopKSae Load(string folder, Device? device = null)
    {
        var config = ReadConfig(folder);
        var weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weightsPath)) throw new MlsaeException($"{folder}: no {WeightsFile}");
        using var scope = NewDisposeScope();
        using var file = SaeTensorFile.Open(weightsPath, Expected);
        long d = config.NInputs, f = config.NLatents;
        var encoder = file.Read("encoder.weight", [f, d], "num_latents × d_in of cfg.json");
        var encoderBias = file.Read("encoder.bias", [f], "num_latents of cfg.json");
        var decoder = file.Read("W_dec", [f, d], "num_latents × d_in of cfg.json");
        var decoderBias = file.Read("b_dec", [d], "d_in of cfg.json");
        file.RefuseOthers(name => name == "W_skip" ? "a skip connection, but cfg.json says skip_connection false" : null);
        return new ExternalTopKSae(config, encoder, encoderBias, decoder, decoderBias, device, weightsPath);
    }

    /// <summary>
    /// Writes <paramref name="sae"/> into the hookpoint folder <paramref name="folder"/> as the newest
    /// sparsify's <c>save_to_disk</c> does (float32 weights; each file atomically). sparsify reads the
    /// folder's name as the hookpoint: use <see cref="HookpointNames.Sparsify"/> of the layer, or
    /// <see cref="SaveMany"/>. An SAE of SAELens's <c>topk</c> is written as sparsify's, which applies
    /// its ReLU before selecting: the non-zero latents and the reconstruction are the same. What
    /// sparsify has no form for (input normalization, a decoder bias not subtracted from the input,
    /// decoder-norm rescaling, signed SAEs, which its newest version reads as unsigned) is refused.
    /// </summary>
    public static void Save(ExternalTopKSae sae, string folder)
    {
        var c = sae.Config;
        string? why = c.Normalization != InputNormalization.None ? "input normalization"
            : !c.SubtractDecoderBias ? "a decoder bias that is not subtracted from the input (apply_b_dec_to_input false)"
            : c.RescaleByDecoderNorm ? "decoder-norm rescaling (rescale_acts_by_decoder_norm)"
            : c.Activation == ExternalActivation.SignedTopK ? "signed latents (the newest sparsify reads a signed SAE as unsigned)"
            : null;
        if (why is not null) throw new MlsaeException($"{folder}: sparsify's format cannot hold {why}");
        Directory.CreateDirectory(folder);
        using (var scope = NewDisposeScope())
        {
            SafeTensorsWriter.Write(Path.Combine(folder, WeightsFile), new Dictionary<string, Tensor>
            {
                ["encoder.weight"] = sae.Encoder.cpu(),
                ["encoder.bias"] = sae.EncoderBias.cpu(),
                ["W_dec"] = sae.Decoder.detach().cpu(),
                ["b_dec"] = sae.DecoderBias.cpu(),
            });
        }
        AtomicFile.WriteText(Path.Combine(folder, ConfigFile), SparsifyConfig.Write(c));
    }

    /// <summary>Writes each SAE into <c>root/&lt;hookpoint&gt;</c> (<see cref="Save"/>), the layout of a
    /// sparsify run: its hookpoint if it is a sparsify SAE, else the sparsify name of its layer.</summary>
    public static void SaveMany(IEnumerable<ExternalTopKSae> saes, string root)
    {
        var list = saes.ToList();
        var names = list.Select(s => Hookpoint(s.Config, root)).ToList();
        foreach (var group in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
            throw new MlsaeException($"{root}: two SAEs for hookpoint {group.Key}");
        for (int i = 0; i < list.Count; i++) Save(list[i], Path.Combine(root, names[i]));
    }

    // A block output gets sparsify's name of it; another sparsify hookpoint (layers.3.mlp) keeps its own.
    static string Hookpoint(ExternalSaeConfig config, string root)
    {
        if (config.Hookpoint is null) throw new MlsaeException($"{root}: an SAE without a hookpoint cannot be placed in a sparsify run folder");
        if (HookpointNames.TryLayer(config.Format, config.Hookpoint, out int layer, out _)) return HookpointNames.Sparsify(layer);
        if (config.Format == ExternalSaeFormat.Sparsify) return config.Hookpoint;
        return HookpointNames.Sparsify(HookpointNames.Layer(config.Format, config.Hookpoint, $"{root}: cannot name the SAE's hookpoint in sparsify"));
    }

    /// <summary>The <c>model</c> of the run <c>config.json</c> in <paramref name="runFolder"/>, when it
    /// holds one; null otherwise (a missing file is not an error: a lone hookpoint folder has none).</summary>
    internal static string? ModelName(string? runFolder)
    {
        if (runFolder is null) return null;
        var path = Path.Combine(runFolder, RunConfigFile);
        if (!File.Exists(path)) return null;
        // Provenance only: a config.json that is not a sparsify run's (a model folder's, a broken
        // one) names no model rather than failing the load.
        try
        {
            using var doc = JsonFields.Parse(path);
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && JsonFields.Get(doc.RootElement, "model") is { ValueKind: System.Text.Json.JsonValueKind.String } model ? model.GetString() : null;
        }
        catch (MlsaeException) { return null; }
        catch (InvalidOperationException) { return null; }
    }
}

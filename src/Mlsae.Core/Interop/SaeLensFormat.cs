using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Interop;

/// <summary>
/// SAELens's folder layout for one SAE, both ways: <c>cfg.json</c> (<see cref="SaeLensConfig"/>)
/// and <c>sae_weights.safetensors</c> with <c>W_enc</c> <c>[d_in, d_sae]</c>, <c>b_enc</c>
/// <c>[d_sae]</c>, <c>W_dec</c> <c>[d_sae, d_in]</c> and <c>b_dec</c> <c>[d_in]</c>, plus
/// <c>activation_scaler.json</c> for <c>expected_average_only_in</c>. This is the one place the
/// encoder is transposed between SAELens's <c>[D, F]</c> and this library's <c>[F, D]</c>.
/// </summary>
public static class SaeLensFormat
{
    /// <summary>The files of a SAELens SAE folder.</summary>
    public const string ConfigFile = "cfg.json", WeightsFile = "sae_weights.safetensors", ScalerFile = "activation_scaler.json";

    const string Expected = "a SAELens TopK SAE holds W_enc, b_enc, W_dec and b_dec";

    /// <summary>Whether <paramref name="folder"/> holds a SAELens SAE (its two files).</summary>
    public static bool IsSaeFolder(string folder) =>
        File.Exists(Path.Combine(folder, ConfigFile)) && File.Exists(Path.Combine(folder, WeightsFile));

    /// <summary>Reads and checks <paramref name="folder"/>'s <c>cfg.json</c> without the weights.</summary>
    public static ExternalSaeConfig ReadConfig(string folder)
    {
        var configPath = Path.Combine(folder, ConfigFile);
        if (!File.Exists(configPath)) throw new MlsaeException($"{folder}: no {ConfigFile} (not a SAELens SAE folder)");
        return SaeLensConfig.Read(configPath, Path.Combine(folder, ScalerFile));
    }

    /// <summary>Loads the SAE in <paramref name="folder"/> onto <paramref name="device"/> (default CPU)
    /// in float32, strictly as SAELens's <c>load_state_dict</c>: a <c>scaling_factor</c> of ones is
    /// dropped as SAELens drops it, any other is refused, as is every other extra tensor.</summary>
    public static ExternalTopKSae Load(string folder, Device? device = null)
    {
        var config = ReadConfig(folder);
        var weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weightsPath)) throw new MlsaeException($"{folder}: no {WeightsFile}");
        using var scope = NewDisposeScope();
        using var file = SaeTensorFile.Open(weightsPath, Expected);
        long d = config.NInputs, f = config.NLatents;
        var wEnc = file.Read("W_enc", [d, f], "d_in × d_sae of cfg.json");
        var bEnc = file.Read("b_enc", [f], "d_sae of cfg.json");
        var wDec = file.Read("W_dec", [f, d], "d_sae × d_in of cfg.json");
        var bDec = file.Read("b_dec", [d], "d_in of cfg.json");
        if (file.Has("scaling_factor"))
        {
            // read_sae_components_from_disk: a factor of ones was saved by some versions and means nothing.
            using var factor = file.ReadRaw("scaling_factor");
            using var ones = factor.eq(1);
            if (!factor.is_floating_point() || !ones.all().item<bool>())
                throw new MlsaeException($"{weightsPath}: tensor 'scaling_factor' is not all ones: SAEs with a fine-tuning scaling factor are not read");
        }
        file.RefuseOthers();
        return new ExternalTopKSae(config, wEnc.t(), bEnc, wDec, bDec, device, weightsPath);
    }

    /// <summary>
    /// Writes <paramref name="sae"/> into <paramref name="folder"/> as SAELens 6 writes a TopK SAE
    /// (float32 weights; each file atomically). An SAE of sparsify's <c>topk</c> is written as
    /// SAELens's, which selects before its ReLU: the non-zero latents and the reconstruction are the
    /// same. Group-max and signed SAEs, and hookpoints with no SAELens name here, are refused.
    /// </summary>
    public static void Save(ExternalTopKSae sae, string folder)
    {
        var config = sae.Config;
        if (config.Activation is not (ExternalActivation.TopKThenRelu or ExternalActivation.ReluThenTopK))
            throw new MlsaeException($"{folder}: a {config.Activation} SAE has no SAELens architecture (SAELens's topk selects the K largest, then applies ReLU)");
        var hookName = HookName(config, folder);
        Directory.CreateDirectory(folder);
        using (var scope = NewDisposeScope())
        {
            SafeTensorsWriter.Write(Path.Combine(folder, WeightsFile), new Dictionary<string, Tensor>
            {
                ["W_enc"] = sae.Encoder.t().contiguous().cpu(),
                ["b_enc"] = sae.EncoderBias.cpu(),
                ["W_dec"] = sae.Decoder.detach().cpu(),
                ["b_dec"] = sae.DecoderBias.cpu(),
            });
        }
        if (config.ScalingFactor is double s) AtomicFile.WriteText(Path.Combine(folder, ScalerFile), SaeLensConfig.WriteScaler(s));
        AtomicFile.WriteText(Path.Combine(folder, ConfigFile), SaeLensConfig.Write(config, hookName));
    }

    // A SAELens hook name is kept; another tool's hookpoint is renamed through its layer.
    static string? HookName(ExternalSaeConfig config, string folder)
    {
        if (config.Hookpoint is null || config.Format == ExternalSaeFormat.SaeLens) return config.Hookpoint;
        return HookpointNames.SaeLens(HookpointNames.Layer(config.Format, config.Hookpoint, $"{folder}: cannot name the SAE's hook in SAELens"));
    }
}

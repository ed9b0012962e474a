using static TorchSharp.torch;

namespace Mlsae.Interop;

/// <summary>A folder holding one external SAE, in whichever of the two formats its files say.</summary>
public static class ExternalSaeFolder
{
    /// <summary>The format of the SAE in <paramref name="folder"/>: SAELens when it holds
    /// <c>cfg.json</c> + <c>sae_weights.safetensors</c>, sparsify when <c>cfg.json</c> +
    /// <c>sae.safetensors</c>; null when neither. Both weights files at once is an error.</summary>
    public static ExternalSaeFormat? Detect(string folder)
    {
        bool saeLens = SaeLensFormat.IsSaeFolder(folder), sparsify = SparsifyFormat.IsSaeFolder(folder);
        if (saeLens && sparsify)
            throw new MlsaeException($"{folder}: holds both {SaeLensFormat.WeightsFile} (SAELens) and {SparsifyFormat.WeightsFile} (sparsify); keep one");
        return saeLens ? ExternalSaeFormat.SaeLens : sparsify ? ExternalSaeFormat.Sparsify : null;
    }

    /// <summary>The format of <paramref name="folder"/>, which must hold an SAE.</summary>
    public static ExternalSaeFormat Require(string folder) => Detect(folder)
        ?? throw new MlsaeException($"{folder}: not an SAE folder (expected {SaeLensFormat.ConfigFile} with {SaeLensFormat.WeightsFile} for SAELens, or with {SparsifyFormat.WeightsFile} for sparsify)");

    /// <summary>The configuration of the SAE in <paramref name="folder"/>, without its weights.</summary>
    public static ExternalSaeConfig ReadConfig(string folder) =>
        Require(folder) == ExternalSaeFormat.SaeLens ? SaeLensFormat.ReadConfig(folder) : SparsifyFormat.ReadConfig(folder);

    /// <summary>Loads the SAE in <paramref name="folder"/> onto <paramref name="device"/> (default CPU).</summary>
    public static ExternalTopKSae Load(string folder, Device? device = null) =>
        Require(folder) == ExternalSaeFormat.SaeLens ? SaeLensFormat.Load(folder, device) : SparsifyFormat.Load(folder, device);
}

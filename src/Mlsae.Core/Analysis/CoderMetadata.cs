using System.Globalization;
using Mlsae.Coders;

namespace Mlsae.Analysis;

/// <summary>The SAE's shape as analysis outputs record it, under the reference's names, so tables over
/// several SAEs (<see cref="LayerStdRow"/>) can say which is which.</summary>
public static class CoderMetadata
{
    /// <summary><c>expansion_factor</c> (F / D, F the latents of one SAE of a per-layer family: an integer for
    /// every SAE the reference trains, else the ratio), <c>k</c>, and for a coder that is not an MLSAE its
    /// <c>kind</c> (an MLSAE's outputs keep the reference's keys alone).</summary>
    public static Dictionary<string, string> Of(ISparseCoder coder)
    {
        int latents = coder is Coders.PerLayer.PerLayerFamily family ? family.LatentsPerSae : coder.NLatents;
        var metadata = new Dictionary<string, string>
        {
            ["expansion_factor"] = latents % coder.NInputs == 0
                ? (latents / coder.NInputs).ToString(CultureInfo.InvariantCulture)
                : ((double)latents / coder.NInputs).ToString("R", CultureInfo.InvariantCulture),
            ["k"] = coder.K.ToString(CultureInfo.InvariantCulture),
        };
        if (coder.Kind != Autoencoder.MlsaeAutoencoder.KindName) metadata[SparseCoderRegistry.KindKey] = coder.Kind;
        return metadata;
    }
}

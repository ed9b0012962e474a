using System.Globalization;
using Mlsae.Coders;

namespace Mlsae.Analysis;

/// <summary>The SAE's shape as analysis outputs record it, under the reference's names, so tables over
/// several SAEs (<see cref="LayerStdRow"/>) can say which is which.</summary>
public static class CoderMetadata
{
    /// <summary><c>expansion_factor</c> (F / D: an integer for every SAE the reference trains, else the
    /// ratio) and <c>k</c>.</summary>
    public static Dictionary<string, string> Of(ISparseCoder coder) => new()
    {
        ["expansion_factor"] = coder.NLatents % coder.NInputs == 0
            ? (coder.NLatents / coder.NInputs).ToString(CultureInfo.InvariantCulture)
            : ((double)coder.NLatents / coder.NInputs).ToString("R", CultureInfo.InvariantCulture),
        ["k"] = coder.K.ToString(CultureInfo.InvariantCulture),
    };
}

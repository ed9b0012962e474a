namespace Mlsae.Models;

/// <summary>Which model layers a run reads: comma-separated indices in any order, or all.</summary>
public static class LayerSelection
{
    /// <summary>Parses <paramref name="value"/> (e.g. <c>0,2,5</c>) against the model's layer count; null or blank means all layers.</summary>
    public static int[] Parse(string? value, int numLayers)
    {
        if (string.IsNullOrWhiteSpace(value)) return Enumerable.Range(0, numLayers).ToArray();
        var layers = new List<int>();
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, out int l))
                throw new MlsaeException($"--layers: '{part}' is not a layer index");
            if (l < 0 || l >= numLayers)
                throw new MlsaeException($"--layers: layer {l} out of range (the model has layers 0..{numLayers - 1})");
            if (layers.Contains(l))
                throw new MlsaeException($"--layers: layer {l} is listed twice");
            layers.Add(l);
        }
        return layers.ToArray();
    }

    /// <summary>The <c>--layers</c> text of a list; null for null.</summary>
    public static string? Format(IReadOnlyList<int>? layers) => layers is null ? null : string.Join(",", layers);
}

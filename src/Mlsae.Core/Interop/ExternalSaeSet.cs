using static TorchSharp.torch;

namespace Mlsae.Interop;

/// <summary>
/// Per-layer external SAEs: one SAE folder, or a folder of SAE folders (a sparsify run or hub repo
/// such as <c>EleutherAI/sae-pythia-70m-deduped-32k</c>, or SAELens SAEs side by side), keyed by
/// this tool's layer index through <see cref="HookpointNames"/>. Folders on other hookpoints
/// (attention or MLP outputs, the embedding) are listed in <see cref="Skipped"/>, not loaded.
/// </summary>
public sealed class ExternalSaeSet : IDisposable
{
    /// <summary>The SAEs by layer, in layer order.</summary>
    public IReadOnlyDictionary<int, ExternalTopKSae> ByLayer { get; }
    /// <summary>SAE folders not loaded: their hookpoint and why it is no layer here.</summary>
    public IReadOnlyList<(string Folder, string Reason)> Skipped { get; }
    /// <summary>What was loaded, as the user named it (a folder or a hub id).</summary>
    public string Source { get; }
    /// <summary>The hub commit the files were read at; null for a local folder.</summary>
    public string? Revision { get; }

    ExternalSaeSet(SortedDictionary<int, ExternalTopKSae> byLayer, List<(string, string)> skipped, string source, string? revision)
    {
        ByLayer = byLayer; Skipped = skipped; Source = source; Revision = revision;
    }

    /// <summary>The layers, ascending.</summary>
    public IReadOnlyList<int> Layers => ByLayer.Keys.ToList();

    /// <summary>
    /// Loads <paramref name="root"/>: the SAE in it, or those in its immediate subfolders. With
    /// <paramref name="layers"/> only those layers are loaded and each must be there; without, every
    /// SAE on a block output. Two SAEs on one layer, or none at all, are errors.
    /// </summary>
    public static ExternalSaeSet Load(string root, IReadOnlyCollection<int>? layers = null, Device? device = null,
        string? source = null, string? revision = null)
    {
        if (!Directory.Exists(root)) throw new MlsaeException($"{root}: no such folder");
        var folders = ExternalSaeFolder.Detect(root) is not null ? [root]
            : Directory.EnumerateDirectories(root).Where(d => ExternalSaeFolder.Detect(d) is not null).Order(StringComparer.Ordinal).ToList();
        if (folders.Count == 0)
            throw new MlsaeException($"{root}: no SAE in it or its subfolders (expected {SaeLensFormat.ConfigFile} with {SaeLensFormat.WeightsFile} for SAELens, or with {SparsifyFormat.WeightsFile} for sparsify)");
        var chosen = new SortedDictionary<int, string>();
        var available = new SortedSet<int>();
        var skipped = new List<(string, string)>();
        foreach (var folder in folders)
        {
            var (hookpoint, format) = Hookpoint(folder);
            if (hookpoint is null) { skipped.Add((folder, "its cfg.json names no hook")); continue; }
            if (!HookpointNames.TryLayer(format, hookpoint, out int layer, out string why)) { skipped.Add((folder, $"{hookpoint}: {why}")); continue; }
            available.Add(layer);
            if (layers is not null && !layers.Contains(layer)) continue;
            if (chosen.TryGetValue(layer, out var other))
                throw new MlsaeException($"{root}: two SAEs on layer {layer}: {Path.GetFileName(other)} and {Path.GetFileName(folder)}");
            chosen[layer] = folder;
        }
        foreach (var wanted in layers ?? [])
            if (!chosen.ContainsKey(wanted))
                throw new MlsaeException($"{root}: no SAE on layer {wanted} (layers here: {Describe(available)})");
        if (chosen.Count == 0)
            throw new MlsaeException($"{root}: no SAE on a block output ({string.Join("; ", skipped.Select(s => $"{Path.GetFileName(s.Item1)}: {s.Item2}"))})");
        var loaded = new SortedDictionary<int, ExternalTopKSae>();
        try
        {
            foreach (var (layer, folder) in chosen) loaded[layer] = ExternalSaeFolder.Load(folder, device);
        }
        catch
        {
            foreach (var sae in loaded.Values) sae.Dispose();
            throw;
        }
        return new ExternalSaeSet(loaded, skipped, source ?? root, revision);
    }

    // sparsify's hookpoint is the folder's name, so a folder is judged without parsing its config.
    static (string? Hookpoint, ExternalSaeFormat Format) Hookpoint(string folder)
    {
        var format = ExternalSaeFolder.Require(folder);
        return format == ExternalSaeFormat.Sparsify
            ? (Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar)), format)
            : (SaeLensFormat.ReadConfig(folder).Hookpoint, format);
    }

    static string Describe(IEnumerable<int> layers) => layers.Any() ? string.Join(", ", layers) : "none";

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var sae in ByLayer.Values) sae.Dispose();
    }
}

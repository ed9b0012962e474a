using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Autoencoder;
using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Coders.PerLayer;

/// <summary>
/// A per-layer family on disk: the folder's <c>config.json</c> is <c>{"kind": "per-layer", "layers": [3, 4]}</c>
/// (model layers, in the order of the inputs' rows), and each SAE is a reference-format MLSAE
/// checkpoint in <c>layer-{model layer}/</c> (<see cref="MlsaeCheckpoint"/>), which loads on its own as
/// an MLSAE (<c>--sae &lt;run&gt;/layer-3</c>).
/// </summary>
public static class PerLayerCheckpoint
{
    /// <summary>The key of the model layers.</summary>
    const string LayersKey = "layers";

    /// <summary>The subfolder of the SAE of model layer <paramref name="layer"/>.</summary>
    public static string LayerFolder(string folder, int layer) => Path.Combine(folder, $"layer-{layer}");

    /// <summary>Writes each SAE's checkpoint into its subfolder, then the family's config (last, so a
    /// folder whose config names the kind has every SAE).</summary>
    public static void Save(PerLayerFamily family, string folder)
    {
        Directory.CreateDirectory(folder);
        for (int l = 0; l < family.Saes.Count; l++) family.Saes[l].Save(LayerFolder(folder, family.ModelLayers[l]));
        var config = new JsonObject
        {
            [SparseCoderRegistry.KindKey] = PerLayerFamily.KindName,
            [LayersKey] = new JsonArray(family.ModelLayers.Select(l => (JsonNode?)l).ToArray()),
        };
        AtomicFile.WriteText(Path.Combine(folder, MlsaeCheckpoint.ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }).ReplaceLineEndings("\n"));
    }

    /// <summary>The family's model layers, as its <c>config.json</c> (<paramref name="configPath"/>) names them.</summary>
    public static int[] Layers(string configPath)
    {
        var json = ResultJson.Read(configPath);
        var layers = json.Ints(LayersKey);
        if (layers.Length == 0) throw json.Error(LayersKey, "is empty: a family has one SAE per layer");
        if (layers.Any(l => l < 0)) throw json.Error(LayersKey, $"must hold model layer indices, got [{string.Join(", ", layers)}]");
        if (layers.Distinct().Count() != layers.Length) throw json.Error(LayersKey, $"repeats a layer: [{string.Join(", ", layers)}]");
        return layers;
    }

    /// <summary>The SAEs' files under the family's folder (relative, '/'-separated, as in a hub repo):
    /// <c>layer-N/config.json</c> and <c>layer-N/model.safetensors</c> per layer the config names.</summary>
    public static IReadOnlyList<string> LayerFiles(string configPath) =>
        Layers(configPath).SelectMany(l => new[] { $"layer-{l}/{MlsaeCheckpoint.ConfigFile}", $"layer-{l}/{MlsaeCheckpoint.WeightsFile}" }).ToList();

    /// <summary>Reads the family in <paramref name="folder"/> with <paramref name="settings"/>; its layers
    /// are the config's. Every SAE must be there and share one architecture.</summary>
    public static (PerLayerFamily Family, int[] Layers) Load(string folder, SparseCoderSettings settings, Device device)
    {
        var configPath = Path.Combine(folder, MlsaeCheckpoint.ConfigFile);
        var layers = Layers(configPath);
        var saes = new List<MlsaeAutoencoder>();
        try
        {
            foreach (var layer in layers)
            {
                var sub = LayerFolder(folder, layer);
                if (!Directory.Exists(sub)) throw new MlsaeException($"{configPath}: names layer {layer}, but {sub} is missing");
                var loaded = MlsaeCheckpoint.Load(sub, settings, device);
                if (loaded.TransformerArguments is not null)
                {
                    loaded.Dispose();
                    throw new MlsaeException($"{Path.Combine(sub, MlsaeCheckpoint.ConfigFile)}: a family's SAE is a plain MLSAE checkpoint, not a -tfm one");
                }
                saes.Add(loaded.Autoencoder);
                if (saes[^1].Config != saes[0].Config)
                    throw new MlsaeException($"{Path.Combine(sub, MlsaeCheckpoint.ConfigFile)}: differs from layer {layers[0]}'s config; a family shares one architecture");
            }
            return (new PerLayerFamily(layers, saes), layers);
        }
        catch
        {
            foreach (var sae in saes) sae.Dispose();
            throw;
        }
    }
}

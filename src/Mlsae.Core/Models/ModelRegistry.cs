using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>
/// Picks a model folder's loader by <c>config.json</c>'s <c>model_type</c>, as transformers'
/// <c>AutoModelForCausalLM</c> does. Everything outside a family's own folder loads models here.
/// </summary>
public static class ModelRegistry
{
    /// <summary>Loads the model in a folder onto a device in a compute dtype.</summary>
    public delegate ILanguageModel Loader(string folder, Device device, ScalarType dtype, bool allowNonFinite);

    // One line per model family.
    static readonly Dictionary<string, Loader> Loaders = new(StringComparer.Ordinal)
    {
        [GptNeoXConfig.ModelType] = (folder, device, dtype, allowNonFinite) => GptNeoXLoader.Load(folder, device, dtype, allowNonFinite),
    };

    /// <summary>The <c>model_type</c> values that can be loaded, sorted.</summary>
    public static IReadOnlyList<string> ModelTypes => Loaders.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>Loads the model in <paramref name="folder"/> with the loader of its <c>model_type</c>.
    /// An unknown or missing <c>model_type</c> is an <see cref="MlsaeException"/> naming the file.</summary>
    /// <remarks>Non-finite weights are an error naming the tensor unless <paramref name="allowNonFinite"/>.</remarks>
    public static ILanguageModel Load(string folder, Device? device = null, ScalarType dtype = ScalarType.Float32, bool allowNonFinite = false)
    {
        var modelType = ModelType(folder);
        if (!Loaders.TryGetValue(modelType, out var load))
            throw new MlsaeException($"{ConfigPath(folder)}: model_type '{modelType}' is not supported (supported: {string.Join(", ", ModelTypes)})");
        return load(folder, device ?? CPU, dtype, allowNonFinite);
    }

    /// <summary>The <c>model_type</c> in <paramref name="folder"/>'s <c>config.json</c>.</summary>
    public static string ModelType(string folder)
    {
        if (!Directory.Exists(folder)) throw new MlsaeException($"{folder}: model folder not found");
        var path = ConfigPath(folder);
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        JsonNode? json;
        try { json = JsonNode.Parse(File.ReadAllText(path)); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw MlsaeException.From($"{path}: invalid JSON", e); }
        if (json is not JsonObject config) throw new MlsaeException($"{path}: not a JSON object");
        try
        {
            return config["model_type"] is JsonValue v && v.GetValueKind() == JsonValueKind.String
                ? v.GetValue<string>()
                : throw new MlsaeException($"{path}: no model_type (supported: {string.Join(", ", ModelTypes)})");
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException) { throw MlsaeException.From($"{path}: invalid JSON", e); }   // a lone surrogate escape, a key given twice
    }

    static string ConfigPath(string folder) => Path.Combine(folder, "config.json");
}

using System.Text.Json.Nodes;
using Mlsae.Autoencoder;
using Mlsae.Coders.Crosscoder;
using Mlsae.Coders.PerLayer;
using static TorchSharp.torch;

namespace Mlsae.Coders;

/// <summary>
/// Loads a checkpoint folder as the sparse coder its <c>config.json</c> names under <c>kind</c>. A
/// config without <c>kind</c> is an MLSAE: the reference's checkpoints (and this tool's, which
/// keep the reference's seven keys byte for byte) never carry one. Other kinds write their own
/// config with <c>kind</c>; a new kind is one entry in <see cref="Loaders"/>.
/// </summary>
public static class SparseCoderRegistry
{
    /// <summary>The config key that names the kind.</summary>
    public const string KindKey = "kind";

    /// <summary>Reads a checkpoint folder into a coder on <paramref name="device"/>.</summary>
    delegate Loaded Loader(string folder, SparseCoderSettings settings, Device device);

    static readonly Dictionary<string, Loader> Loaders = new()
    {
        [MlsaeAutoencoder.KindName] = (folder, settings, device) =>
        {
            var loaded = MlsaeCheckpoint.Load(folder, settings, device);
            return new Loaded(loaded.Autoencoder, loaded.ModelName, loaded.Layers) { TunedLens = loaded.TunedLens };
        },
        [PerLayerFamily.KindName] = (folder, settings, device) =>
        {
            var (family, layers) = PerLayerCheckpoint.Load(folder, settings, device);
            return new Loaded(family, null, layers);
        },
        [AcausalCrosscoder.KindName] = (folder, settings, device) =>
        {
            var crosscoder = CrosscoderCheckpoint.Load(folder, settings, device);
            return new Loaded(crosscoder, null, crosscoder.Config.ModelLayers.ToArray());
        },
    };

    /// <summary>A loaded checkpoint: the coder and what the checkpoint says of the model it reads
    /// (a reference <c>-tfm</c> checkpoint's <c>model_name</c> and <c>layers</c>; the layers a per-layer
    /// family or a crosscoder was trained on, which it must read; null otherwise).</summary>
    public sealed record Loaded(ISparseCoder Coder, string? ModelName, int[]? Layers) : IDisposable
    {
        /// <summary>Whether the checkpoint says it was trained on tuned-lens vectors (a reference <c>-tfm</c>
        /// checkpoint's <c>tuned_lens: true</c>), so that it must not run without one.</summary>
        public bool TunedLens { get; init; }

        /// <inheritdoc />
        public void Dispose() => Coder.Dispose();
    }

    /// <summary>The kinds that load.</summary>
    public static IReadOnlyCollection<string> Kinds => Loaders.Keys;

    /// <summary>The kind of the checkpoint in <paramref name="folder"/>: its config's <c>kind</c>,
    /// or <c>"mlsae"</c> when it has none. Fails, naming the file, on a missing or malformed config
    /// or a <c>kind</c> that is not a string.</summary>
    public static string KindOf(string folder)
    {
        var path = Path.Combine(folder, MlsaeCheckpoint.ConfigFile);
        if (!File.Exists(path)) throw new MlsaeException($"{folder}: no {MlsaeCheckpoint.ConfigFile} (not a sparse coder checkpoint folder)");
        JsonObject config;
        try { config = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new MlsaeException($"{path}: expected a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw MlsaeException.From($"{path}: malformed JSON", e); }
        if (!config.TryGetPropertyValue(KindKey, out var kind)) return MlsaeAutoencoder.KindName;
        return kind is JsonValue value && value.TryGetValue<string>(out var name)
            ? name
            : throw new MlsaeException($"{path}: \"{KindKey}\" must be a string, got {kind?.ToJsonString() ?? "null"}");
    }

    /// <summary>Loads the checkpoint in <paramref name="folder"/> with <paramref name="settings"/>.
    /// An unknown kind is a one-line error naming the file and the kinds that load.</summary>
    public static Loaded Load(string folder, SparseCoderSettings settings, Device? device = null)
    {
        var kind = KindOf(folder);
        if (!Loaders.TryGetValue(kind, out var load))
            throw new MlsaeException($"{Path.Combine(folder, MlsaeCheckpoint.ConfigFile)}: unknown sparse coder kind \"{kind}\" (known: {string.Join(", ", Kinds)})");
        return load(folder, settings, device ?? CPU);
    }
}

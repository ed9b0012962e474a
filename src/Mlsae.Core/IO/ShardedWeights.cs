using System.Text.Json;
using TorchSharp;

namespace Mlsae.IO;

/// <summary>A sharded checkpoint: an HF index file (<c>model.safetensors.index.json</c> or
/// <c>pytorch_model.bin.index.json</c>) whose <c>weight_map</c> names the shard of each tensor.</summary>
public sealed class ShardedWeights : IWeightSource
{
    readonly Dictionary<string, IWeightSource> byName = new();
    readonly List<IWeightSource> shards = new();

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public IReadOnlyCollection<string> Names => byName.Keys;

    ShardedWeights(string path) => Path = path;

    /// <summary>Opens the index and every shard it names, with <paramref name="openShard"/>.</summary>
    public static ShardedWeights Open(string indexPath, Func<string, IWeightSource> openShard)
    {
        var result = new ShardedWeights(indexPath);
        try
        {
            if (!File.Exists(indexPath)) throw new MlsaeException($"{indexPath}: file not found");
            using var doc = JsonText.Parse(File.ReadAllBytes(indexPath), $"{indexPath}: corrupt index");
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new MlsaeException($"{indexPath}: index has no weight_map object");
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
            var opened = new Dictionary<string, IWeightSource>();
            foreach (var entry in map.EnumerateObject())
            {
                var file = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()!
                    : throw new MlsaeException($"{indexPath}: weight_map entry for tensor '{ContainedPath.Printable(entry.Name)}' must be a shard file name, not {entry.Value.ValueKind}");
                if (!opened.TryGetValue(file, out var shard))
                {
                    // The index may come from anywhere; its names must not reach files beside the model folder.
                    var shardPath = ContainedPath.Combine(dir, file, $"{indexPath}: shard");
                    if (!File.Exists(shardPath))
                        throw new MlsaeException($"{indexPath}: shard '{file}' (holding tensor '{entry.Name}') not found");
                    shard = openShard(shardPath);
                    opened[file] = shard;
                    result.shards.Add(shard);
                }
                if (!shard.Names.Contains(entry.Name))
                    throw new MlsaeException($"{indexPath}: tensor '{entry.Name}' is not in shard '{file}'");
                result.byName[entry.Name] = shard;
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    IWeightSource Get(string name) => byName.TryGetValue(name, out var s) ? s
        : throw new MlsaeException($"{Path}: no tensor named '{name}'");

    /// <inheritdoc />
    public long[] Shape(string name) => Get(name).Shape(name);

    /// <inheritdoc />
    public torch.ScalarType DType(string name) => Get(name).DType(name);

    /// <inheritdoc />
    public torch.Tensor Read(string name) => Get(name).Read(name);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var s in shards) s.Dispose();
    }
}

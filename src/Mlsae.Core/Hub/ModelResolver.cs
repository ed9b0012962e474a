using System.Text.Json;
using Mlsae.IO;

namespace Mlsae.Hub;

/// <summary>Turns a <c>--model</c> value into a local HF model folder: an existing local path
/// wins; otherwise <c>org/name</c> is a hub id whose config, weights (with shards) and tokenizer
/// files are fetched through <see cref="HubClient"/>.</summary>
public static class ModelResolver
{
    /// <summary>Optional files fetched beside the weights.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"];

    /// <summary>Resolves <paramref name="model"/> to a folder, fetching through <paramref name="hub"/> when it is a hub id.</summary>
    public static string Resolve(string model, string revision, HubClient hub) => Resolve(model, revision, () => hub);

    /// <summary>As <see cref="Resolve(string, string, HubClient)"/>; <paramref name="hubClient"/> is called only when the hub is needed.</summary>
    public static string Resolve(string model, string revision, Func<HubClient> hubClient)
    {
        if (Directory.Exists(model)) return model;
        if (System.IO.File.Exists(model))
            throw new MlsaeException($"--model: '{model}' is a file; pass the folder holding config.json and the weights");
        if (!HubClient.LooksLikeRepoId(model) || model.StartsWith('.'))
            throw new MlsaeException($"--model: '{model}' is neither a local folder nor a hub id (org/name)");
        var hub = hubClient();   // created only when the hub is needed
        var config = hub.File(model, "config.json", revision)!;
        foreach (var name in WeightSource.FileNames)
        {
            var path = hub.File(model, name, revision, required: false);
            if (path is null) continue;
            if (name.EndsWith(".index.json", StringComparison.Ordinal))
                foreach (var shard in Shards(path)) hub.File(model, shard, revision);
            break;
        }
        foreach (var name in TokenizerFiles) hub.File(model, name, revision, required: false);
        return Path.GetDirectoryName(config)!;
    }

    /// <summary>Resolves <c>--tokenizer</c>: a tokenizer.json file, a folder holding one, or a hub id
    /// (its tokenizer files are fetched). Returns the folder or file to load.</summary>
    public static string ResolveTokenizer(string tokenizer, string revision, HubClient hub) => ResolveTokenizer(tokenizer, revision, () => hub);

    /// <summary>As <see cref="ResolveTokenizer(string, string, HubClient)"/>; <paramref name="hubClient"/> is called only when the hub is needed.</summary>
    public static string ResolveTokenizer(string tokenizer, string revision, Func<HubClient> hubClient)
    {
        if (Directory.Exists(tokenizer) || System.IO.File.Exists(tokenizer)) return tokenizer;
        if (!HubClient.LooksLikeRepoId(tokenizer) || tokenizer.StartsWith('.'))
            throw new MlsaeException($"--tokenizer: '{tokenizer}' is neither a local file or folder nor a hub id (org/name)");
        var hub = hubClient();
        var path = hub.File(tokenizer, "tokenizer.json", revision)!;
        foreach (var name in TokenizerFiles.Skip(1)) hub.File(tokenizer, name, revision, required: false);
        return Path.GetDirectoryName(path)!;
    }

    /// <summary>The shard files an index names, each checked to be a safe repo path: the index is
    /// repo content, and its names become cache paths.</summary>
    static IEnumerable<string> Shards(string indexPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(indexPath));
            return doc.RootElement.GetProperty("weight_map").EnumerateObject()
                .Select(p => HubPaths.RepoFile(p.Value.GetString()
                    ?? throw new MlsaeException($"{indexPath}: tensor '{p.Name}' has no shard file"), $"{indexPath}: shard"))
                .Distinct().ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw MlsaeException.From($"{indexPath}: corrupt index", e);
        }
    }
}

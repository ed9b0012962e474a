namespace Mlsae.Analysis;

/// <summary>
/// Merging the outputs of <c>--shard i/n</c> runs (dists, examples) into what one run over all the
/// data writes: every input is read and checked first (same model, SAE, layers and settings;
/// metadata that parses), so a bad input stops the merge before anything is written.
/// </summary>
public static class ShardMerge
{
    /// <summary>The merged dists of <paramref name="files"/> and their common metadata (shard <c>0/1</c>
    /// when the inputs are every part of one split, else the parts joined by <c>+</c>).</summary>
    public static (LayerDists Dists, Dictionary<string, string> Metadata) Dists(IReadOnlyList<string> files)
    {
        var (merged, metadata) = LayerDists.Load(files[0]);
        var meta = LayerDists.GivenMetadata(metadata);
        var shards = new List<string> { Part(files[0], meta) };
        foreach (var file in files.Skip(1))
        {
            var (next, m) = LayerDists.Load(file);
            Same(file, files[0], m, meta, "model", "sae", "layers", "max_length", "batch_size");
            merged.Merge(next);
            shards.Add(Part(file, m));
        }
        if (meta.TryGetValue("layers", out var layers) && layers.Length > 0 && Layers(files[0], layers).Length != merged.Layers)
            throw new MlsaeException($"{files[0]}: metadata \"layers\" '{layers}' names {Layers(files[0], layers).Length} layers, the dists hold {merged.Layers}");
        meta["shard"] = Joined(shards);
        return (merged, meta);
    }

    /// <summary>The merged examples of <paramref name="files"/>, their common metadata and model layers.</summary>
    public static (MaxActivatingExamples Examples, Dictionary<string, string> Metadata, int[] Layers) Examples(IReadOnlyList<string> files)
    {
        var meta = ExamplesDatabase.ReadMetadata(files[0]);
        // Per-latent examples (a crosscoder's) are stored under one layer for all.
        IReadOnlyList<int> layers = meta.GetValueOrDefault(ExamplesDatabase.PerLatentKey) == "true"
            ? [ExamplesDatabase.AllLayers] : Layers(files[0], Required(files[0], meta, "layers"));
        int top = Int(files[0], meta, "top"), window = Int(files[0], meta, "window");
        int latents = 0;
        var all = new List<MaxActivatingExamples.Example>();
        foreach (var file in files)
        {
            var m = ExamplesDatabase.ReadMetadata(file);
            Same(file, files[0], m, meta, "model", "sae", "layers", "top", "window", "max_length", ExamplesDatabase.PerLatentKey);
            var read = ExamplesDatabase.Read(file, layers);
            latents = Math.Max(latents, read.Count == 0 ? 0 : read.Max(e => e.Latent) + 1);
            all.AddRange(read);
        }
        var merged = new MaxActivatingExamples(layers.Count, latents, top, window);
        merged.Add(all);
        meta["shard"] = "0/1";
        meta.Remove(ExamplesDatabase.PerLatentKey);       // Write marks it again from the layers
        return (merged, meta, layers.ToArray());
    }

    static void Same(string file, string first, IReadOnlyDictionary<string, string> m, IReadOnlyDictionary<string, string> meta, params string[] keys)
    {
        foreach (var key in keys)
            if (m.GetValueOrDefault(key) != meta.GetValueOrDefault(key))
                throw new MlsaeException($"{file}: {key} '{m.GetValueOrDefault(key)}' differs from {first}'s '{meta.GetValueOrDefault(key)}'");
    }

    static string Required(string file, IReadOnlyDictionary<string, string> meta, string key) =>
        meta.TryGetValue(key, out var v) ? v : throw new MlsaeException($"{file}: no \"{key}\" in its metadata");

    static int Int(string file, IReadOnlyDictionary<string, string> meta, string key) =>
        int.TryParse(Required(file, meta, key), out int v) && v > 0 ? v : throw new MlsaeException($"{file}: metadata \"{key}\" is '{meta[key]}', not a positive integer");

    static int[] Layers(string file, string value)
    {
        var parts = value.Split(',');
        var layers = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out layers[i]) || layers[i] < 0)
                throw new MlsaeException($"{file}: metadata \"layers\" is '{value}', not a list of layer indices");
        return layers;
    }

    /// <summary>The input's shard, checked: <c>i/n</c>, or a merge of several (<c>a+b</c>).</summary>
    static string Part(string file, IReadOnlyDictionary<string, string> meta)
    {
        var shard = meta.GetValueOrDefault("shard", "0/1");
        foreach (var part in shard.Split('+'))
            try { Data.Shard.Parse(part); }
            catch (MlsaeException) { throw new MlsaeException($"{file}: metadata \"shard\" is '{shard}', not i/n"); }
        return shard;
    }

    static string Joined(List<string> shards)
    {
        var parts = shards.SelectMany(s => s.Split('+')).Select(Data.Shard.Parse).ToList();
        bool whole = parts.Select(p => p.Count).Distinct().Count() == 1 && parts.Distinct().Count() == parts[0].Count && parts.Count == parts[0].Count;
        return whole ? "0/1" : string.Join("+", shards);
    }
}

namespace Mlsae.IO;

/// <summary>Finds and opens the weights in an HF model folder.</summary>
public static class WeightSource
{
    /// <summary>The weight files looked for, in order of preference (as transformers does).</summary>
    public static readonly IReadOnlyList<string> FileNames =
        ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"];

    /// <summary>Opens a weight file by its name: safetensors, a PyTorch zip checkpoint, or an index of either.</summary>
    public static IWeightSource OpenFile(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        if (path.EndsWith(".index.json", StringComparison.Ordinal))
            return ShardedWeights.Open(path, OpenFile);
        if (path.EndsWith(".safetensors", StringComparison.Ordinal))
            return SafeTensorsFile.Open(path);
        return TorchCheckpoint.Open(path);
    }

    /// <summary>Opens the first weight file of <see cref="FileNames"/> present in <paramref name="folder"/>.</summary>
    public static IWeightSource OpenFolder(string folder)
    {
        foreach (var name in FileNames)
        {
            var path = System.IO.Path.Combine(folder, name);
            if (File.Exists(path)) return OpenFile(path);
        }
        throw new MlsaeException($"{folder}: no weights found (looked for {string.Join(", ", FileNames)})");
    }
}

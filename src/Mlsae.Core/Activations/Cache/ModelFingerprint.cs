using System.Security.Cryptography;
using System.Text;

namespace Mlsae.Activations.Cache;

/// <summary>
/// A cheap identity of a model folder, so that a cache is never read with a model other than the
/// one that wrote it: SHA-256 over config.json's bytes and, per weight file (ordinal order), its
/// name, its size and, when it links into a hub cache's <c>blobs/</c>, the blob's name (the hub's
/// content hash). The weights themselves are not hashed: a local folder whose weights were
/// replaced by others of the same size keeps its fingerprint.
/// </summary>
public static class ModelFingerprint
{
    static readonly string[] WeightPatterns = ["*.safetensors", "*.bin", "*.pt", "*.safetensors.index.json", "*.bin.index.json"];

    /// <summary>The fingerprint of <paramref name="folder"/> (lowercase hex).</summary>
    public static string Of(string folder)
    {
        var config = Path.Combine(folder, "config.json");
        if (!File.Exists(config)) throw new MlsaeException($"{folder}: no config.json to fingerprint");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(File.ReadAllBytes(config));
        var files = WeightPatterns.SelectMany(p => Directory.EnumerateFiles(folder, p)).Distinct().OrderBy(Path.GetFileName, StringComparer.Ordinal);
        foreach (var file in files)
        {
            var info = new FileInfo(file);
            var blob = info.LinkTarget is string target && target.Replace('\\', '/').Contains("/blobs/") ? Path.GetFileName(target) : "";
            long length = (info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info).Length;
            hash.AppendData(Encoding.UTF8.GetBytes($"\n{Path.GetFileName(file)}\t{length}\t{blob}"));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

using System.Security.Cryptography;

namespace Mlsae.Hub;

/// <summary>
/// One local file to commit at <see cref="PathInRepo"/>, with what the hub's upload APIs ask of it:
/// its size, its sha256 (the LFS object id) and its first 512 bytes (the preupload "sample" from
/// which the hub decides between a regular git blob and LFS, as huggingface_hub sends it).
/// </summary>
public sealed class HubUploadFile
{
    /// <summary>Bytes of the preupload sample, as huggingface_hub's <c>UploadInfo</c> takes them.</summary>
    public const int SampleBytes = 512;

    /// <summary>Describes <paramref name="localPath"/> for upload to <paramref name="pathInRepo"/>;
    /// the file is hashed once, now, so that a file changing meanwhile cannot commit a wrong oid.</summary>
    public HubUploadFile(string pathInRepo, string localPath)
    {
        PathInRepo = HubPaths.RepoFile(pathInRepo, "push: path in repo");
        LocalPath = localPath;
        try
        {
            using var stream = File.OpenRead(localPath);
            Size = stream.Length;
            Sample = new byte[Math.Min(SampleBytes, Size)];
            stream.ReadExactly(Sample);
            stream.Position = 0;
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MlsaeException.From($"{localPath}: cannot read the file to push", e);
        }
    }

    /// <summary>The path inside the repo, checked like every repo path (no <c>..</c>, no backslash).</summary>
    public string PathInRepo { get; }
    /// <summary>The file on disk.</summary>
    public string LocalPath { get; }
    /// <summary>Bytes.</summary>
    public long Size { get; }
    /// <summary>Lower-case hex sha256 of the content: the LFS oid.</summary>
    public string Sha256 { get; }
    /// <summary>The first <see cref="SampleBytes"/> bytes.</summary>
    public byte[] Sample { get; }
}

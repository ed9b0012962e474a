using System.Text;
using System.Text.Json;

namespace Mlsae.Hub;

/// <summary>
/// The body of the hub's commit API (<c>POST /api/{type}s/{repo}/commit/{revision}</c>), NDJSON as
/// huggingface_hub's <c>_prepare_commit_payload</c> writes it: a <c>header</c> line with the summary
/// and description, then one line per file: <c>file</c> (content in base64) for regular files,
/// <c>lfsFile</c> (path, algo, oid, size) for files already uploaded to LFS.
/// </summary>
public static class HubCommit
{
    /// <summary>The NDJSON payload; <paramref name="lfs"/> holds the repo paths uploaded through LFS.</summary>
    public static byte[] Payload(string summary, string description, IReadOnlyList<HubUploadFile> files, IReadOnlySet<string> lfs)
    {
        var text = new StringBuilder();
        void Line(string key, object value) =>
            text.Append(JsonSerializer.Serialize(new Dictionary<string, object> { ["key"] = key, ["value"] = value })).Append('\n');
        Line("header", new Dictionary<string, string> { ["summary"] = summary, ["description"] = description });
        foreach (var file in files)
        {
            if (lfs.Contains(file.PathInRepo))
                Line("lfsFile", new Dictionary<string, object> { ["path"] = file.PathInRepo, ["algo"] = "sha256", ["oid"] = file.Sha256, ["size"] = file.Size });
            else
                Line("file", new Dictionary<string, string> { ["content"] = Convert.ToBase64String(Read(file)), ["path"] = file.PathInRepo, ["encoding"] = "base64" });
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    static byte[] Read(HubUploadFile file)
    {
        try { return File.ReadAllBytes(file.LocalPath); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MlsaeException.From($"{file.LocalPath}: cannot read the file to push", e);
        }
    }
}

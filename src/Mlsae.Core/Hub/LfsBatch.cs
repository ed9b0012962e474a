using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlsae.Hub;

/// <summary>
/// The git-lfs batch API as the hub serves it (<c>POST {endpoint}/{datasets/}{repo}.git/info/lfs/objects/batch</c>,
/// https://github.com/git-lfs/git-lfs/blob/main/docs/api/batch.md): the request names every object
/// by sha256 oid and size; the reply gives, per object, either nothing to do (the server has it),
/// an <c>upload</c> action (one PUT, or with a <c>chunk_size</c> header the hub's multipart
/// transfer: one PUT per numbered part URL, then a completion POST to the action's href) and an
/// optional <c>verify</c> action, or an error.
/// </summary>
public static class LfsBatch
{
    /// <summary>The media type of the batch API, sent as Accept and Content-Type.</summary>
    public const string MediaType = "application/vnd.git-lfs+json";

    /// <summary>What the server asks for one object.</summary>
    /// <param name="Oid">The sha256 the reply names.</param>
    /// <param name="Upload">The upload action's href, or null when the server already has the object.</param>
    /// <param name="UploadHeader">Headers of the upload action (multipart: <c>chunk_size</c> and the part URLs by number).</param>
    /// <param name="Verify">The verify action's href, or null.</param>
    /// <param name="VerifyHeader">Headers of the verify action.</param>
    public sealed record Action(string Oid, string? Upload, IReadOnlyDictionary<string, string> UploadHeader, string? Verify,
        IReadOnlyDictionary<string, string> VerifyHeader)
    {
        /// <summary>The multipart chunk size, or null for a single PUT.</summary>
        public long? ChunkSize(string repoId) => !UploadHeader.TryGetValue("chunk_size", out var text) ? null
            : long.TryParse(text, out var n) && n > 0 ? n
            : throw new MlsaeException($"{repoId}: the LFS batch reply's chunk_size '{IO.ContainedPath.Printable(text)}' is not a positive integer");

        /// <summary>The part URLs of a multipart upload, in part order (header keys that are numbers).</summary>
        public IReadOnlyList<string> PartUrls() =>
            UploadHeader.Where(kv => kv.Key.Length > 0 && kv.Key.All(char.IsAsciiDigit))
                .OrderBy(kv => long.Parse(kv.Key)).Select(kv => kv.Value).ToList();
    }

    /// <summary>The request body for <paramref name="files"/> at <paramref name="revision"/>.</summary>
    public static byte[] Request(IEnumerable<HubUploadFile> files, string revision) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["operation"] = "upload",
            ["transfers"] = new JsonArray("basic", "multipart"),
            ["objects"] = new JsonArray(files.Select(f => (JsonNode)new JsonObject { ["oid"] = f.Sha256, ["size"] = f.Size }).ToArray()),
            ["hash_algo"] = "sha256",
            ["ref"] = new JsonObject { ["name"] = revision },
        });

    /// <summary>Parses the reply; an object the server refused is a one-line error naming the repo and file.</summary>
    public static List<Action> Reply(Stream body, string repoId, IReadOnlyList<HubUploadFile> files)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body); }
        catch (JsonException e) { throw MlsaeException.From($"{repoId}: malformed reply from the LFS batch API", e); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("objects", out var objects)
            || objects.ValueKind != JsonValueKind.Array)
            throw new MlsaeException($"{repoId}: the LFS batch reply has no \"objects\" list");
        var actions = new List<Action>();
        foreach (var o in objects.EnumerateArray())
        {
            var oid = o.ValueKind == JsonValueKind.Object && o.TryGetProperty("oid", out var v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()! : throw new MlsaeException($"{repoId}: the LFS batch reply names an object without an oid");
            if (o.TryGetProperty("error", out var error))
            {
                var file = files.FirstOrDefault(f => f.Sha256 == oid)?.PathInRepo ?? oid;
                var message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.ToString() : error.ToString();
                throw new MlsaeException($"{repoId}: the hub refused the LFS upload of '{file}': {IO.ContainedPath.Printable(message)}");
            }
            var (upload, uploadHeader) = Href(o, "upload", repoId);
            var (verify, verifyHeader) = Href(o, "verify", repoId);
            actions.Add(new Action(oid, upload, uploadHeader, verify, verifyHeader));
        }
        return actions;
    }

    static (string? Href, Dictionary<string, string> Header) Href(JsonElement o, string name, string repoId)
    {
        if (!o.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Object
            || !actions.TryGetProperty(name, out var action))
            return (null, []);
        if (action.ValueKind != JsonValueKind.Object || !action.TryGetProperty("href", out var href) || href.ValueKind != JsonValueKind.String
            || !Uri.TryCreate(href.GetString(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new MlsaeException($"{repoId}: the LFS batch reply's {name} action has no http(s) href");
        var header = new Dictionary<string, string>();
        if (action.TryGetProperty("header", out var h) && h.ValueKind == JsonValueKind.Object)
            foreach (var p in h.EnumerateObject()) header[p.Name] = p.Value.ToString();
        return (href.GetString(), header);
    }
}

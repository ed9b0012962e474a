using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Runs;

namespace Mlsae.Hub;

/// <summary>
/// Writes to hub repositories through the hub's HTTP API, as huggingface_hub's <c>create_repo</c>
/// and <c>create_commit</c> do: create the repo (an existing one is fine), ask <c>preupload</c> which
/// files go to LFS, upload those through the LFS batch API (objects the server already has are
/// skipped), then one commit (<see cref="HubCommit"/>). The token goes to the endpoint only: LFS
/// upload URLs may point at a storage host and get no Authorization header. Every failure is one
/// line naming the repo and the HTTP status.
/// </summary>
public sealed class HubUpload : IDisposable
{
    readonly HttpClient api;
    readonly HttpClient storage;
    readonly IRunObserver observer;

    /// <summary>The hub base URL.</summary>
    public string Endpoint { get; }

    /// <summary>A writer for <paramref name="settings"/>' endpoint with its token, reporting large
    /// uploads through <paramref name="observer"/>. A missing token is an error: the hub accepts no anonymous writes.</summary>
    public HubUpload(HubSettings settings, IRunObserver? observer = null)
    {
        settings.Validate();
        if (string.IsNullOrEmpty(settings.Token))
            throw new MlsaeException("push: no hub token; set HF_TOKEN (or log in with `hf auth login`, whose token file is read too)");
        if (settings.Offline) throw new MlsaeException("push: HF_HUB_OFFLINE is set; pushing needs the network");
        Endpoint = settings.Endpoint.TrimEnd('/');
        this.observer = observer ?? RunObserver.Silent;
        api = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(10) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        storage = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        foreach (var client in new[] { api, storage }) client.DefaultRequestHeaders.UserAgent.ParseAdd("mlsae/0.1");
    }

    /// <summary>The repo types of the hub's URL layout.</summary>
    static string Plural(string repoType) => HubPaths.RepoType(repoType) + "s";

    /// <summary>Creates <paramref name="repoId"/> (<c>POST /api/repos/create</c>); returns false when it already existed (409).</summary>
    public bool CreateRepo(string repoId, string repoType, bool isPrivate)
    {
        HubPaths.RepoId(repoId);
        var slash = repoId.IndexOf('/');
        var body = new JsonObject
        {
            ["name"] = slash < 0 ? repoId : repoId[(slash + 1)..],
            ["organization"] = slash < 0 ? null : repoId[..slash],
            ["type"] = HubPaths.RepoType(repoType),
            ["private"] = isPrivate,
        };
        using var response = Send(HttpMethod.Post, $"{Endpoint}/api/repos/create", Json(body), repoId, "creating the repo", allowConflict: true);
        return response.StatusCode != HttpStatusCode.Conflict;
    }

    /// <summary>Commits <paramref name="files"/> to <paramref name="repoId"/> at <paramref name="revision"/>
    /// with <paramref name="summary"/>; returns the commit's oid as the hub reports it (or null).</summary>
    public string? Commit(string repoId, string repoType, IReadOnlyList<HubUploadFile> files, string summary, string revision = "main",
        string description = "")
    {
        HubPaths.RepoId(repoId);
        HubPaths.Revision(revision);
        var lfs = Preupload(repoId, repoType, files, revision);
        UploadLfs(repoId, repoType, files.Where(f => lfs.Contains(f.PathInRepo)).ToList(), revision);
        var content = new ByteArrayContent(HubCommit.Payload(summary, description, files, lfs));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var response = Send(HttpMethod.Post, $"{Endpoint}/api/{Plural(repoType)}/{repoId}/commit/{Uri.EscapeDataString(revision)}", content, repoId, "the commit");
        using var reply = ReadJson(response, repoId, "commit");
        return reply.RootElement.ValueKind == JsonValueKind.Object && reply.RootElement.TryGetProperty("commitOid", out var oid)
            && oid.ValueKind == JsonValueKind.String ? oid.GetString() : null;
    }

    /// <summary>The repo paths the hub wants through LFS (<c>uploadMode</c> "lfs"), asked 256 files at a time
    /// as huggingface_hub does; empty files always go as regular files (LFS storage rejects them).</summary>
    HashSet<string> Preupload(string repoId, string repoType, IReadOnlyList<HubUploadFile> files, string revision)
    {
        var lfs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in files.Chunk(256))
        {
            var body = new JsonObject
            {
                ["files"] = new JsonArray(chunk.Select(f => (JsonNode)new JsonObject
                {
                    ["path"] = f.PathInRepo, ["sample"] = Convert.ToBase64String(f.Sample), ["size"] = f.Size,
                }).ToArray()),
            };
            using var response = Send(HttpMethod.Post, $"{Endpoint}/api/{Plural(repoType)}/{repoId}/preupload/{Uri.EscapeDataString(revision)}",
                Json(body), repoId, "preupload");
            using var reply = ReadJson(response, repoId, "preupload");
            if (reply.RootElement.ValueKind != JsonValueKind.Object || !reply.RootElement.TryGetProperty("files", out var listed)
                || listed.ValueKind != JsonValueKind.Array)
                throw new MlsaeException($"{repoId}: the preupload reply has no \"files\" list");
            foreach (var entry in listed.EnumerateArray())
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("path", out var path) && path.ValueKind == JsonValueKind.String
                    && entry.TryGetProperty("uploadMode", out var mode) && mode.ValueKind == JsonValueKind.String && mode.GetString() == "lfs")
                    lfs.Add(path.GetString()!);
        }
        foreach (var empty in files.Where(f => f.Size == 0)) lfs.Remove(empty.PathInRepo);
        return lfs;
    }

    void UploadLfs(string repoId, string repoType, IReadOnlyList<HubUploadFile> files, string revision)
    {
        if (files.Count == 0) return;
        // One object per distinct content: two paths with the same bytes are one LFS object.
        var objects = files.DistinctBy(f => f.Sha256).ToList();
        var prefix = repoType == "model" ? "" : Plural(repoType) + "/";
        var content = new ByteArrayContent(LfsBatch.Request(objects, revision));
        content.Headers.ContentType = new MediaTypeHeaderValue(LfsBatch.MediaType);
        var request = new HttpRequestMessage(HttpMethod.Post, $"{Endpoint}/{prefix}{repoId}.git/info/lfs/objects/batch") { Content = content };
        request.Headers.Accept.ParseAdd(LfsBatch.MediaType);
        List<LfsBatch.Action> actions;
        using (var response = Send(request, repoId, "the LFS batch request"))
            actions = LfsBatch.Reply(response.Content.ReadAsStream(), repoId, objects);
        foreach (var action in actions)
        {
            var file = objects.FirstOrDefault(f => f.Sha256 == action.Oid)
                ?? throw new MlsaeException($"{repoId}: the LFS batch reply names an object that was not asked for ({IO.ContainedPath.Printable(action.Oid)})");
            if (action.Upload is null) continue;   // the server already holds these bytes
            if (action.ChunkSize(repoId) is long chunk) UploadParts(repoId, file, action, chunk);
            else observer.Progress($"upload {file.PathInRepo}", file.Size, "bytes", report =>
            {
                using var put = Send(storage, new HttpRequestMessage(HttpMethod.Put, action.Upload) { Content = FileContent(file, 0, file.Size, report) },
                    repoId, $"uploading '{file.PathInRepo}'");
                return 0;
            });
            if (action.Verify is not null)
            {
                var verify = new HttpRequestMessage(HttpMethod.Post, action.Verify)
                {
                    Content = Json(new JsonObject { ["oid"] = file.Sha256, ["size"] = file.Size }, LfsBatch.MediaType),
                };
                foreach (var (name, value) in action.VerifyHeader) verify.Headers.TryAddWithoutValidation(name, value);
                // huggingface_hub sends its token with the verify call; here only when it goes to the endpoint itself.
                using var _ = Send(SameOrigin(action.Verify) ? api : storage, verify, repoId, $"verifying '{file.PathInRepo}'");
            }
        }
        var missing = objects.FirstOrDefault(f => actions.All(a => a.Oid != f.Sha256));
        if (missing is not null) throw new MlsaeException($"{repoId}: the LFS batch reply says nothing of '{missing.PathInRepo}'");
    }

    /// <summary>The hub's multipart transfer: the file in <paramref name="chunk"/>-byte parts, each PUT to its
    /// numbered URL, then the parts' ETags POSTed to the upload href to complete it.</summary>
    void UploadParts(string repoId, HubUploadFile file, LfsBatch.Action action, long chunk)
    {
        var urls = action.PartUrls();
        if (urls.Count != (file.Size + chunk - 1) / chunk)
            throw new MlsaeException($"{repoId}: the LFS batch reply gives {urls.Count} part URLs for '{file.PathInRepo}' ({file.Size} bytes in parts of {chunk})");
        var parts = observer.Progress($"upload {file.PathInRepo}", file.Size, "bytes", report =>
        {
            var etags = new JsonArray();
            for (int i = 0; i < urls.Count; i++)
            {
                long start = i * chunk;
                if (!Uri.TryCreate(urls[i], UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                    throw new MlsaeException($"{repoId}: the LFS batch reply's part {i + 1} URL for '{file.PathInRepo}' is not http(s)");
                using var put = Send(storage, new HttpRequestMessage(HttpMethod.Put, uri)
                {
                    Content = FileContent(file, start, Math.Min(chunk, file.Size - start), sent => report(start + sent)),
                }, repoId, $"uploading part {i + 1} of '{file.PathInRepo}'");
                var etag = put.Headers.ETag?.ToString();
                if (string.IsNullOrEmpty(etag)) throw new MlsaeException($"{repoId}: the storage returned no ETag for part {i + 1} of '{file.PathInRepo}'");
                etags.Add(new JsonObject { ["partNumber"] = i + 1, ["etag"] = etag });
            }
            return etags;
        });
        var complete = new HttpRequestMessage(HttpMethod.Post, action.Upload)
        {
            Content = Json(new JsonObject { ["oid"] = file.Sha256, ["parts"] = parts }, LfsBatch.MediaType),
        };
        complete.Headers.Accept.ParseAdd(LfsBatch.MediaType);
        // Without the token, as huggingface_hub completes it: the href carries its own signature.
        using var _ = Send(storage, complete, repoId, $"completing the upload of '{file.PathInRepo}'");
    }

    /// <summary>Whether <paramref name="url"/> lies on the endpoint's scheme, host and port (and may get the token).</summary>
    bool SameOrigin(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && Uri.Compare(uri, new Uri(Endpoint), UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary><paramref name="length"/> bytes of the file from <paramref name="start"/>, reporting bytes sent.</summary>
    static HttpContent FileContent(HubUploadFile file, long start, long length, Action<long> report)
    {
        var stream = new FileStream(file.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        stream.Position = start;
        var content = new StreamContent(new CountingStream(stream, length, report), 1 << 20);
        content.Headers.ContentLength = length;
        return content;
    }

    static ByteArrayContent Json(JsonNode body, string mediaType = "application/json")
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    HttpResponseMessage Send(HttpMethod method, string url, HttpContent content, string repoId, string what, bool allowConflict = false) =>
        Send(api, new HttpRequestMessage(method, url) { Content = content }, repoId, what, allowConflict);

    HttpResponseMessage Send(HttpRequestMessage request, string repoId, string what) => Send(api, request, repoId, what);

    /// <summary>Sends and returns a successful reply; anything else is one line naming the repo, the step and the status.</summary>
    HttpResponseMessage Send(HttpClient client, HttpRequestMessage request, string repoId, string what, bool allowConflict = false)
    {
        HttpResponseMessage response;
        try { response = client.Send(request, HttpCompletionOption.ResponseContentRead); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            throw new MlsaeException($"{repoId}: {what} could not reach {Endpoint} ({e.Message})");
        }
        if (response.IsSuccessStatusCode || (allowConflict && response.StatusCode == HttpStatusCode.Conflict)) return response;
        using var _ = response;
        int status = (int)response.StatusCode;
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => ": the token was refused (check HF_TOKEN)",
            HttpStatusCode.Forbidden => ": the token may not write to this repo (it needs write access to the user or organization)",
            HttpStatusCode.NotFound => ": repository not found",
            _ => "",
        };
        var reason = ServerMessage(response);
        throw new MlsaeException($"{repoId}: {what} failed with HTTP {status}{hint}{(reason is null ? "" : $" ({reason})")}");
    }

    /// <summary>The hub's own explanation (<c>X-Error-Message</c> or a JSON <c>error</c>), shortened and made printable.</summary>
    static string? ServerMessage(HttpResponseMessage response)
    {
        string? message = response.Headers.TryGetValues("X-Error-Message", out var values) ? values.FirstOrDefault() : null;
        if (message is null)
            try
            {
                using var doc = JsonDocument.Parse(response.Content.ReadAsStream());
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error)) message = error.ToString();
            }
            catch (Exception e) when (e is JsonException or IOException or InvalidOperationException) { }
        if (string.IsNullOrWhiteSpace(message)) return null;
        message = IO.ContainedPath.Printable(message.Trim());
        return message.Length > 200 ? message[..200] + "…" : message;
    }

    static JsonDocument ReadJson(HttpResponseMessage response, string repoId, string what)
    {
        try { return JsonDocument.Parse(response.Content.ReadAsStream()); }
        catch (JsonException e) { throw MlsaeException.From($"{repoId}: malformed reply from the hub's {what} API", e); }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        api.Dispose();
        storage.Dispose();
    }

    /// <summary>Reads at most <paramref name="length"/> bytes of <paramref name="inner"/>, reporting the running count.</summary>
    sealed class CountingStream(Stream inner, long length, Action<long> report) : Stream
    {
        long sent;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => sent; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, (int)Math.Min(count, length - sent));
            sent += n;
            report(sent);
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlsae.Tests.Hub;

/// <summary>
/// A loopback fake of the hub's write API that records every request: <c>/api/repos/create</c>,
/// <c>preupload</c> (files ending in .safetensors or .db go to LFS), the LFS batch API (objects it
/// holds get no action; others a PUT, or with <see cref="MultipartChunk"/> numbered part PUTs and a
/// completion POST; then a verify), and the NDJSON <c>commit</c>. Committed files are then served in
/// the read layout (<c>resolve</c>, HEAD metadata) so that the reading client can download them.
/// It checks what a real hub checks (the bearer token, sha256 and size of uploaded bytes, LFS files
/// present before they are committed) and answers 400 when a check fails.
/// </summary>
public sealed class WritableHub : IDisposable
{
    /// <summary>One request as received.</summary>
    public sealed record Request(string Method, string Path, string? Authorization, string? ContentType, byte[] Body)
    {
        /// <summary>The body as JSON.</summary>
        public JsonNode Json => JsonNode.Parse(Body)!;
    }

    readonly HttpListener listener = new();
    readonly CancellationTokenSource stop = new();
    readonly Task loop;
    readonly string token;
    readonly Dictionary<string, byte[]> parts = new();

    /// <summary>The commit hash reported for every repo.</summary>
    public const string Commit = "89abcdef0123456789abcdef0123456789abcdef";
    /// <summary>The base URL to put in HF_ENDPOINT.</summary>
    public string Endpoint { get; }
    /// <summary>Every request, in order.</summary>
    public List<Request> Requests { get; } = new();
    /// <summary>Repos created, as "type:id" (a second create answers 409).</summary>
    public HashSet<string> Repos { get; } = new();
    /// <summary>LFS objects held, by sha256.</summary>
    public Dictionary<string, byte[]> Objects { get; } = new();
    /// <summary>Committed files per "type:id", by path.</summary>
    public Dictionary<string, Dictionary<string, byte[]>> Files { get; } = new();
    /// <summary>When set, LFS uploads use the multipart transfer with parts of this many bytes.</summary>
    public long? MultipartChunk { get; set; }
    /// <summary>When set, requests whose path contains the key get the status instead of an answer.</summary>
    public Dictionary<string, int> Failures { get; } = new();

    public WritableHub(string token)
    {
        this.token = token;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(Endpoint + "/");
        listener.Start();
        loop = Task.Run(Serve);
    }

    /// <summary>Requests whose path contains <paramref name="part"/>.</summary>
    public List<Request> To(string part, string? method = null)
    {
        lock (Requests) return Requests.Where(r => r.Path.Contains(part, StringComparison.Ordinal) && (method is null || r.Method == method)).ToList();
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    async Task Serve()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await listener.GetContextAsync(); }
            catch (Exception) { return; }
            try { Handle(ctx); }
            catch (Exception e) { Answer(ctx, 500, new JsonObject { ["error"] = e.Message }); }
            finally { ctx.Response.Close(); }
        }
    }

    void Handle(HttpListenerContext ctx)
    {
        var path = Uri.UnescapeDataString(ctx.Request.Url!.AbsolutePath);
        var body = new MemoryStream();
        ctx.Request.InputStream.CopyTo(body);
        var request = new Request(ctx.Request.HttpMethod, path, ctx.Request.Headers["Authorization"], ctx.Request.ContentType, body.ToArray());
        lock (Requests) Requests.Add(request);
        foreach (var (part, status) in Failures)
            if (path.Contains(part, StringComparison.Ordinal)) { Answer(ctx, status, new JsonObject { ["error"] = "refused by the test" }); return; }
        bool storage = path.StartsWith("/lfs-", StringComparison.Ordinal);
        if (!storage && ctx.Request.HttpMethod != "GET" && ctx.Request.HttpMethod != "HEAD" && request.Authorization != $"Bearer {token}")
        {
            Answer(ctx, 401, new JsonObject { ["error"] = "Invalid credentials" });
            return;
        }
        lock (Requests)
        {
            if (path == "/api/repos/create") Create(ctx, request);
            else if (path.StartsWith("/api/", StringComparison.Ordinal) && path.Contains("/preupload/", StringComparison.Ordinal)) Preupload(ctx, request);
            else if (path.StartsWith("/api/", StringComparison.Ordinal) && path.Contains("/commit/", StringComparison.Ordinal)) CommitFiles(ctx, request, path);
            else if (path.EndsWith(".git/info/lfs/objects/batch", StringComparison.Ordinal)) Batch(ctx, request);
            else if (storage) Storage(ctx, request, path);
            else Resolve(ctx, path);
        }
    }

    static (string Type, string Repo) RepoOf(string rest)
    {
        // "models/org/name/…", "datasets/org/name/…" or (read and LFS URLs) "org/name/…" for models.
        var parts = rest.Split('/');
        return parts[0] is "datasets" or "models" or "spaces" ? (parts[0][..^1], parts[1] + "/" + parts[2]) : ("model", parts[0] + "/" + parts[1]);
    }

    void Create(HttpListenerContext ctx, Request request)
    {
        var body = request.Json.AsObject();
        var name = body["organization"] is JsonNode org ? $"{org.GetValue<string>()}/{body["name"]!.GetValue<string>()}" : body["name"]!.GetValue<string>();
        var key = $"{body["type"]?.GetValue<string>() ?? "model"}:{name}";
        if (!Repos.Add(key)) { Answer(ctx, 409, new JsonObject { ["error"] = "You already created this repo" }); return; }
        Files[key] = new();
        Answer(ctx, 200, new JsonObject { ["url"] = $"{Endpoint}/{name}" });
    }

    void Preupload(HttpListenerContext ctx, Request request)
    {
        var files = request.Json["files"]!.AsArray().Select(f => (JsonNode)new JsonObject
        {
            ["path"] = f!["path"]!.GetValue<string>(),
            ["uploadMode"] = IsLfs(f["path"]!.GetValue<string>()) ? "lfs" : "regular",
            ["shouldIgnore"] = false,
        }).ToArray();
        Answer(ctx, 200, new JsonObject { ["files"] = new JsonArray(files) });
    }

    static bool IsLfs(string path) => path.EndsWith(".safetensors", StringComparison.Ordinal) || path.EndsWith(".db", StringComparison.Ordinal);

    void Batch(HttpListenerContext ctx, Request request)
    {
        var objects = new JsonArray();
        foreach (var o in request.Json["objects"]!.AsArray())
        {
            var oid = o!["oid"]!.GetValue<string>();
            long size = o["size"]!.GetValue<long>();
            var entry = new JsonObject { ["oid"] = oid, ["size"] = size };
            if (!Objects.ContainsKey(oid))
            {
                var upload = new JsonObject { ["href"] = $"{Endpoint}/lfs-upload/{oid}/{size}" };
                if (MultipartChunk is long chunk)
                {
                    var header = new JsonObject { ["chunk_size"] = chunk.ToString() };
                    for (long i = 0; i * chunk < size; i++) header[(i + 1).ToString()] = $"{Endpoint}/lfs-part/{oid}/{i + 1}";
                    upload = new JsonObject { ["href"] = $"{Endpoint}/lfs-complete/{oid}/{size}", ["header"] = header };
                }
                entry["actions"] = new JsonObject { ["upload"] = upload, ["verify"] = new JsonObject { ["href"] = $"{Endpoint}/lfs-verify/{oid}" } };
            }
            objects.Add(entry);
        }
        Answer(ctx, 200, new JsonObject { ["transfer"] = "basic", ["objects"] = objects });
    }

    void Storage(HttpListenerContext ctx, Request request, string path)
    {
        var p = path.Split('/');   // "", "lfs-…", oid, n
        switch (p[1])
        {
            case "lfs-upload":
                Store(ctx, p[2], long.Parse(p[3]), request.Body);
                return;
            case "lfs-part":
                parts[$"{p[2]}/{p[3]}"] = request.Body;
                ctx.Response.Headers["ETag"] = $"\"etag-{p[3]}\"";
                Answer(ctx, 200, null);
                return;
            case "lfs-complete":
                var bytes = request.Json["parts"]!.AsArray()
                    .Select(part => (Number: part!["partNumber"]!.GetValue<int>(), Etag: part["etag"]!.GetValue<string>()))
                    .Where(part => part.Etag == $"\"etag-{part.Number}\"")
                    .SelectMany(part => parts[$"{p[2]}/{part.Number}"]).ToArray();
                Store(ctx, p[2], long.Parse(p[3]), bytes);
                return;
            case "lfs-verify":
                Answer(ctx, Objects.ContainsKey(p[2]) ? 200 : 404, new JsonObject());
                return;
        }
        Answer(ctx, 404, null);
    }

    void Store(HttpListenerContext ctx, string oid, long size, byte[] bytes)
    {
        if (Sha256(bytes) != oid || bytes.Length != size) { Answer(ctx, 400, new JsonObject { ["error"] = "sha256 or size mismatch" }); return; }
        Objects[oid] = bytes;
        Answer(ctx, 200, null);
    }

    void CommitFiles(HttpListenerContext ctx, Request request, string path)
    {
        var (type, repo) = RepoOf(path["/api/".Length..]);
        var key = $"{type}:{repo}";
        if (!Files.TryGetValue(key, out var files)) { Answer(ctx, 404, new JsonObject { ["error"] = "Repository not found" }); return; }
        var lines = Encoding.UTF8.GetString(request.Body).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        if (lines.Count == 0 || lines[0]["key"]!.GetValue<string>() != "header") { Answer(ctx, 400, new JsonObject { ["error"] = "no header" }); return; }
        foreach (var line in lines.Skip(1))
        {
            var value = line["value"]!;
            var file = value["path"]!.GetValue<string>();
            switch (line["key"]!.GetValue<string>())
            {
                case "file":
                    files[file] = Convert.FromBase64String(value["content"]!.GetValue<string>());
                    break;
                case "lfsFile":
                    if (!Objects.TryGetValue(value["oid"]!.GetValue<string>(), out var bytes)) { Answer(ctx, 400, new JsonObject { ["error"] = $"LFS object of {file} missing" }); return; }
                    files[file] = bytes;
                    break;
                default:
                    Answer(ctx, 400, new JsonObject { ["error"] = "unknown key" });
                    return;
            }
        }
        Answer(ctx, 200, new JsonObject { ["commitOid"] = Commit, ["commitUrl"] = $"{Endpoint}/{repo}/commit/{Commit}" });
    }

    void Resolve(HttpListenerContext ctx, string path)
    {
        var (type, repo) = RepoOf(path[1..]);
        var prefix = (type == "model" ? "/" : $"/{type}s/") + repo + "/resolve/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal) || !Files.TryGetValue($"{type}:{repo}", out var files))
        {
            ctx.Response.Headers["X-Error-Code"] = "RepoNotFound";
            Answer(ctx, 404, null);
            return;
        }
        var rest = path[prefix.Length..];
        var file = rest[(rest.IndexOf('/') + 1)..];
        if (!files.TryGetValue(file, out var bytes))
        {
            ctx.Response.Headers["X-Error-Code"] = "EntryNotFound";
            Answer(ctx, 404, null);
            return;
        }
        ctx.Response.Headers["X-Repo-Commit"] = Commit;
        ctx.Response.Headers["ETag"] = $"\"{Sha256(bytes)}\"";
        ctx.Response.ContentLength64 = bytes.Length;
        if (ctx.Request.HttpMethod == "GET") ctx.Response.OutputStream.Write(bytes);
    }

    static void Answer(HttpListenerContext ctx, int status, JsonNode? body)
    {
        ctx.Response.StatusCode = status;
        if (body is null) return;
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength64 = bytes.Length;
        ctx.Response.OutputStream.Write(bytes);
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        listener.Close();
        try { loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mlsae.Hub;

namespace Mlsae.Tests.Hub;

/// <summary>A loopback HTTP server that serves a folder in the HF hub's URL layout
/// (<c>/{org}/{name}/resolve/{revision}/{file}</c>, under <c>/datasets/</c> or <c>/spaces/</c> for those repo types), with HEAD metadata headers and Range support.
/// A test can make it hostile: <see cref="HeaderOverrides"/> replace its metadata headers and
/// <see cref="ExtraTreeEntries"/> are added to its file listing.</summary>
public sealed class LoopbackHub : IDisposable
{
    readonly HttpListener listener = new();
    readonly string repoId;
    readonly string folder;
    readonly CancellationTokenSource stop = new();
    readonly Task loop;

    /// <summary>The commit hash reported for every revision.</summary>
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";
    /// <summary>The base URL to put in HF_ENDPOINT.</summary>
    public string Endpoint { get; }
    /// <summary>Requests seen, as "METHOD path [range]".</summary>
    public List<string> Requests { get; } = new();
    /// <summary>Authorization headers seen.</summary>
    public List<string?> Authorizations { get; } = new();
    /// <summary>Headers sent instead of the real ones on every file response (e.g. a hostile X-Repo-Commit).</summary>
    public Dictionary<string, string> HeaderOverrides { get; } = new();
    /// <summary>Entries added to the first page of the tree listing (e.g. a file path with <c>..</c>).</summary>
    public List<object> ExtraTreeEntries { get; } = new();

    public LoopbackHub(string repoId, string folder)
    {
        this.repoId = repoId; this.folder = folder;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(Endpoint + "/");
        listener.Start();
        loop = Task.Run(Serve);
    }

    /// <summary>A client of this hub, with explicit settings, caching into <paramref name="cache"/>.</summary>
    public HubClient Client(HubCache cache, string? token = null) =>
        new(new HubSettings { Endpoint = Endpoint, Cache = cache, Token = token });

    public static string Etag(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    async Task Serve()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await listener.GetContextAsync(); }
            catch (Exception) { return; }
            try { Handle(ctx); }
            finally { ctx.Response.Close(); }
        }
    }

    void Handle(HttpListenerContext ctx)
    {
        var raw = ctx.Request.Url!.AbsolutePath;   // still escaped: a revision's %2F is not a separator
        var path = Uri.UnescapeDataString(raw);
        lock (Requests)
        {
            Requests.Add($"{ctx.Request.HttpMethod} {path} {ctx.Request.Headers["Range"]}".Trim());
            Authorizations.Add(ctx.Request.Headers["Authorization"]);
        }
        if (path.StartsWith($"/api/", StringComparison.Ordinal) && path.Contains($"/{repoId}/tree/", StringComparison.Ordinal))
        {
            Tree(ctx);
            return;
        }
        var prefix = raw.StartsWith("/datasets/", StringComparison.Ordinal) ? $"/datasets/{repoId}/resolve/"
            : raw.StartsWith("/spaces/", StringComparison.Ordinal) ? $"/spaces/{repoId}/resolve/" : $"/{repoId}/resolve/";
        if (!raw.StartsWith(prefix, StringComparison.Ordinal))
        {
            ctx.Response.StatusCode = 404;
            ctx.Response.Headers["X-Error-Code"] = "RepoNotFound";
            return;
        }
        var rest = raw[prefix.Length..];
        var file = Path.Combine(folder, Uri.UnescapeDataString(rest[(rest.IndexOf('/') + 1)..]));
        if (!File.Exists(file))
        {
            ctx.Response.StatusCode = 404;
            ctx.Response.Headers["X-Error-Code"] = "EntryNotFound";
            return;
        }
        var bytes = File.ReadAllBytes(file);
        ctx.Response.Headers["X-Repo-Commit"] = Commit;
        ctx.Response.Headers["ETag"] = $"\"{Etag(file)}\"";
        foreach (var (name, value) in HeaderOverrides) ctx.Response.Headers[name] = value;
        long start = 0;
        var range = ctx.Request.Headers["Range"];
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            start = long.Parse(range["bytes=".Length..].TrimEnd('-'));
            ctx.Response.StatusCode = 206;
            ctx.Response.Headers["Content-Range"] = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }
        ctx.Response.ContentLength64 = bytes.Length - start;
        if (ctx.Request.HttpMethod == "GET")
            ctx.Response.OutputStream.Write(bytes, (int)start, (int)(bytes.Length - start));
    }

    /// <summary>Files per page of the tree API, small so that pagination is exercised.</summary>
    public const int TreePageSize = 2;

    void Tree(HttpListenerContext ctx)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToList();
        int start = int.TryParse(ctx.Request.QueryString["cursor"], out var c) ? c : 0;
        var page = files.Skip(start).Take(TreePageSize).Select(f => new { type = "file", path = f, size = new FileInfo(Path.Combine(folder, f)).Length })
            .Concat<object>(start == 0 ? [new { type = "directory", path = "somedir" }, .. ExtraTreeEntries] : []);
        if (start + TreePageSize < files.Count)
            ctx.Response.Headers["Link"] = $"<{Endpoint}{ctx.Request.Url!.AbsolutePath}?recursive=true&cursor={start + TreePageSize}>; rel=\"next\"";
        var bytes = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(page);
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

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Mlsae.Tests.Hub;

/// <summary>A loopback HTTP server that serves a folder in the HF hub's URL layout
/// (<c>/{org}/{name}/resolve/{revision}/{file}</c>), with HEAD metadata headers and Range support.</summary>
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
        var path = Uri.UnescapeDataString(ctx.Request.Url!.AbsolutePath);
        lock (Requests)
        {
            Requests.Add($"{ctx.Request.HttpMethod} {path} {ctx.Request.Headers["Range"]}".Trim());
            Authorizations.Add(ctx.Request.Headers["Authorization"]);
        }
        var prefix = $"/{repoId}/resolve/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            ctx.Response.StatusCode = 404;
            ctx.Response.Headers["X-Error-Code"] = "RepoNotFound";
            return;
        }
        var rest = path[prefix.Length..];
        var file = Path.Combine(folder, rest[(rest.IndexOf('/') + 1)..]);
        if (!File.Exists(file))
        {
            ctx.Response.StatusCode = 404;
            ctx.Response.Headers["X-Error-Code"] = "EntryNotFound";
            return;
        }
        var bytes = File.ReadAllBytes(file);
        ctx.Response.Headers["X-Repo-Commit"] = Commit;
        ctx.Response.Headers["ETag"] = $"\"{Etag(file)}\"";
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

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        listener.Close();
        try { loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Mlsae.Hub;

/// <summary>
/// Resolves files of HuggingFace hub repositories to local paths: from the standard cache when
/// present, otherwise downloaded (with resume) from <c>$HF_ENDPOINT</c> (default the public hub),
/// sending <c>$HF_TOKEN</c> when set. With <c>HF_HUB_OFFLINE=1</c> the network is never touched.
/// </summary>
public sealed partial class HubClient : IDisposable
{
    /// <summary>Bytes of one file received so far, and its size when known.</summary>
    public delegate void ProgressHandler(string file, long received, long? total);

    readonly HttpClient head;
    readonly HttpClient get;
    readonly ProgressHandler? progress;

    /// <summary>The hub base URL.</summary>
    public string Endpoint { get; }
    /// <summary>The local cache.</summary>
    public HubCache Cache { get; }
    /// <summary>Whether the network is off limits.</summary>
    public bool Offline { get; }

    /// <summary>Creates a client; null arguments are taken from the environment.</summary>
    public HubClient(string? endpoint = null, string? token = null, HubCache? cache = null, bool? offline = null,
        ProgressHandler? progress = null)
    {
        var fromEnv = Environment.GetEnvironmentVariable("HF_ENDPOINT");
        Endpoint = (endpoint ?? (string.IsNullOrEmpty(fromEnv) ? "https://huggingface.co" : fromEnv)).TrimEnd('/');
        token ??= Environment.GetEnvironmentVariable("HF_TOKEN");
        Cache = cache ?? HubCache.FromEnvironment();
        Offline = offline ?? Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") is "1" or "true" or "TRUE" or "yes";
        this.progress = progress;
        head = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        get = new HttpClient(new HttpClientHandler { AllowAutoRedirect = true }) { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(token))
        {
            head.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            get.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        head.DefaultRequestHeaders.UserAgent.ParseAdd("mlsae/0.1");
        get.DefaultRequestHeaders.UserAgent.ParseAdd("mlsae/0.1");
    }

    /// <summary>Whether <paramref name="s"/> has the shape of a hub repo id (<c>org/name</c> or <c>name</c>).</summary>
    public static bool LooksLikeRepoId(string s) => RepoIdPattern().IsMatch(s);

    [GeneratedRegex(@"^([A-Za-z0-9][A-Za-z0-9_.\-]*/)?[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    private static partial Regex RepoIdPattern();

    /// <summary>
    /// Returns a local path for <paramref name="file"/> of the repo at <paramref name="revision"/>,
    /// or null when the repo has no such file (only when <paramref name="required"/> is false).
    /// </summary>
    public string? File(string repoId, string file, string revision = "main", bool required = true, string repoType = "model")
    {
        var commit = Cache.Commit(repoId, revision, repoType);
        if (commit is not null)
        {
            var cached = Path.Combine(Cache.Snapshot(repoId, commit, repoType), file);
            if (System.IO.File.Exists(cached)) return cached;
            var noExist = Path.Combine(Cache.RepoFolder(repoId, repoType), ".no_exist", commit, file);
            if (System.IO.File.Exists(noExist) && !required) return null;
        }
        if (Offline)
        {
            if (!required) return null;
            throw new MlsaeException($"{repoId}: '{file}' (revision {revision}) is not in the cache {Cache.Root} and HF_HUB_OFFLINE is set");
        }
        return Download(repoId, file, revision, required, repoType);
    }

    string UrlFor(string repoId, string file, string revision, string repoType) =>
        $"{Endpoint}/{(repoType == "model" ? "" : repoType + "s/")}{repoId}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', file.Split('/').Select(Uri.EscapeDataString))}";

    string? Download(string repoId, string file, string revision, bool required, string repoType)
    {
        var url = UrlFor(repoId, file, revision, repoType);
        HttpResponseMessage meta;
        try { meta = head.Send(new HttpRequestMessage(HttpMethod.Head, url)); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new MlsaeException($"{repoId}: could not reach {Endpoint} ({e.Message}); set HF_HUB_OFFLINE=1 to use only the cache");
        }
        using var _ = meta;
        if (meta.StatusCode == HttpStatusCode.NotFound)
        {
            if (meta.Headers.TryGetValues("X-Error-Code", out var codes) && codes.Contains("RepoNotFound"))
                throw new MlsaeException($"{repoId}: repository not found on {Endpoint} (private or gated repos need HF_TOKEN)");
            if (!required) return null;
            throw new MlsaeException($"{repoId}: file '{file}' not found at revision {revision}");
        }
        if (meta.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new MlsaeException($"{repoId}: access denied ({(int)meta.StatusCode}); set HF_TOKEN for private or gated repos");
        if ((int)meta.StatusCode >= 400)
            throw new MlsaeException($"{repoId}: '{file}' request failed with HTTP {(int)meta.StatusCode}");

        string commit = Header(meta, "X-Repo-Commit") ?? Cache.Commit(repoId, revision, repoType)
            ?? throw new MlsaeException($"{repoId}: the hub did not report a commit for revision {revision}");
        string etag = NormalizeEtag(Header(meta, "X-Linked-Etag") ?? meta.Headers.ETag?.Tag
            ?? throw new MlsaeException($"{repoId}: the hub did not report an ETag for '{file}'"));
        long? size = long.TryParse(Header(meta, "X-Linked-Size"), out var s) ? s : meta.Content.Headers.ContentLength;
        Cache.SetRef(repoId, revision, commit, repoType);

        var blob = Cache.Blob(repoId, etag, repoType);
        if (!System.IO.File.Exists(blob)) FetchBlob(url, blob, file, size);
        return Cache.Link(repoId, commit, file, etag, repoType);
    }

    void FetchBlob(string url, string blob, string file, long? size)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
        var partial = blob + ".incomplete";
        long have = System.IO.File.Exists(partial) ? new FileInfo(partial).Length : 0;
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        try
        {
            using var response = get.Send(request, HttpCompletionOption.ResponseHeadersRead);
            if (have > 0 && response.StatusCode != HttpStatusCode.PartialContent) have = 0;   // server ignored the range
            if (!response.IsSuccessStatusCode)
                throw new MlsaeException($"{url}: download failed with HTTP {(int)response.StatusCode}");
            using (var input = response.Content.ReadAsStream())
            using (var output = new FileStream(partial, have > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write))
            {
                var buffer = new byte[1 << 20];
                long received = have;
                int n;
                while ((n = input.Read(buffer)) > 0)
                {
                    output.Write(buffer, 0, n);
                    received += n;
                    progress?.Invoke(file, received, size);
                }
            }
            if (size is long expected && new FileInfo(partial).Length != expected)
                throw new MlsaeException($"{url}: download incomplete ({new FileInfo(partial).Length} of {expected} bytes); run again to resume");
            System.IO.File.Move(partial, blob, overwrite: true);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            throw new MlsaeException($"{url}: download interrupted ({e.Message}); run again to resume");
        }
    }

    static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault() : null;

    static string NormalizeEtag(string etag) => etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..].Trim('"') : etag.Trim('"');

    /// <inheritdoc />
    public void Dispose()
    {
        head.Dispose();
        get.Dispose();
    }
}

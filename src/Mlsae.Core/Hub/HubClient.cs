using System.Net;
using System.Net.Http.Headers;

namespace Mlsae.Hub;

/// <summary>
/// Resolves files of HuggingFace hub repositories to local paths: from the standard cache when
/// present, otherwise downloaded (with resume) from the settings' endpoint, sending its token when
/// set. Offline, the network is never touched. Whatever the endpoint answers, nothing is written
/// outside the repo's cache folder: every name it supplies is checked by <see cref="HubPaths"/>.
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

    /// <summary>Creates a client from explicit <paramref name="settings"/>; nothing is read from the environment.</summary>
    public HubClient(HubSettings settings, ProgressHandler? progress = null)
    {
        settings.Validate();
        Endpoint = settings.Endpoint.TrimEnd('/');
        Cache = settings.Cache;
        Offline = settings.Offline;
        this.progress = progress;
        head = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        get = new HttpClient(new HttpClientHandler { AllowAutoRedirect = true }) { Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(settings.Token))
        {
            head.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
            get.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
        }
        head.DefaultRequestHeaders.UserAgent.ParseAdd("mlsae/0.1");
        get.DefaultRequestHeaders.UserAgent.ParseAdd("mlsae/0.1");
    }

    /// <summary>Creates a client from explicit values, as <see cref="HubClient(HubSettings, ProgressHandler?)"/>.</summary>
    public HubClient(string endpoint, HubCache cache, string? token = null, bool offline = false, ProgressHandler? progress = null)
        : this(new HubSettings { Endpoint = endpoint, Cache = cache, Token = token, Offline = offline }, progress) { }

    /// <summary>A client configured by <c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HUB_OFFLINE</c> and the
    /// cache variables (<see cref="HubSettings.FromEnvironment"/>).</summary>
    public static HubClient FromEnvironment(ProgressHandler? progress = null) => new(HubSettings.FromEnvironment(), progress);

    /// <summary>Whether <paramref name="s"/> has the shape of a hub repo id (<c>org/name</c> or <c>name</c>).</summary>
    public static bool LooksLikeRepoId(string s) => HubPaths.RepoIdPattern().IsMatch(s);

    /// <summary>
    /// Returns a local path for <paramref name="file"/> of the repo at <paramref name="revision"/>,
    /// or null when the repo has no such file (only when <paramref name="required"/> is false).
    /// </summary>
    public string? File(string repoId, string file, string revision = "main", bool required = true, string repoType = "model")
    {
        // User input is checked before it reaches a cache path or a URL.
        HubPaths.RepoId(repoId);
        HubPaths.Revision(revision);
        HubPaths.RepoFile(file, $"{repoId}: file");
        var commit = Cache.Commit(repoId, revision, repoType);
        if (commit is not null)
        {
            var cached = Cache.SnapshotFile(repoId, commit, file, repoType);
            if (System.IO.File.Exists(cached)) return cached;
            if (System.IO.File.Exists(Cache.NoExistMarker(repoId, commit, file, repoType)) && !required) return null;
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

        // Every header that becomes part of a path is checked before the cache is touched.
        var commitHeader = Header(meta, "X-Repo-Commit");
        string commit = commitHeader is not null
            ? HubPaths.Commit(commitHeader, $"{repoId}: the X-Repo-Commit header from {Endpoint} for '{file}'")
            : Cache.Commit(repoId, revision, repoType)
              ?? throw new MlsaeException($"{repoId}: the hub did not report a commit for revision {revision}");
        var (etagName, etagHeader) = Header(meta, "X-Linked-Etag") is { } linked ? ("X-Linked-Etag", linked)
            : Header(meta, "ETag") is { } plain ? ("ETag", plain)
            : throw new MlsaeException($"{repoId}: the hub did not report an ETag for '{file}'");
        string etag = HubPaths.Etag(etagHeader, $"{repoId}: the {etagName} header from {Endpoint} for '{file}'");
        long? size = long.TryParse(Header(meta, "X-Linked-Size"), out var s) ? s : meta.Content.Headers.ContentLength;
        // The snapshot and blob paths are checked now, so that a bad one leaves no ref behind.
        Cache.SnapshotFile(repoId, commit, file, repoType);
        var blob = Cache.Blob(repoId, etag, repoType);
        var partial = Cache.IncompleteBlob(repoId, etag, repoType);
        try
        {
            Cache.SetRef(repoId, revision, commit, repoType);
            if (!System.IO.File.Exists(blob)) FetchBlob(url, blob, partial, file, size);
            return Cache.Link(repoId, commit, file, etag, repoType);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw MlsaeException.From($"{repoId}: could not write '{file}' into the cache {Cache.Root}", e);
        }
    }

    void FetchBlob(string url, string blob, string partial, string file, long? size)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
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

    /// <inheritdoc />
    public void Dispose()
    {
        head.Dispose();
        get.Dispose();
    }
}

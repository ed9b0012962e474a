using System.Net;
using System.Text.Json;

namespace Mlsae.Hub;

public sealed partial class HubClient
{
    /// <summary>
    /// Every file path of a repo at <paramref name="revision"/>, through the hub's tree API
    /// (recursive, following its pagination). The listing is cached beside the repo's snapshots,
    /// so an offline run reuses the last one.
    /// </summary>
    public IReadOnlyList<string> ListFiles(string repoId, string revision = "main", string repoType = "dataset")
    {
        var listing = Cache.Listing(repoId, revision, repoType);
        if (Offline)
        {
            if (!System.IO.File.Exists(listing))
                throw new MlsaeException($"{repoId}: no cached file listing for revision {revision} in {Cache.Root} and HF_HUB_OFFLINE is set");
            List<string> cached;
            try { cached = JsonSerializer.Deserialize<List<string>>(System.IO.File.ReadAllText(listing)) ?? []; }
            catch (JsonException e) { throw MlsaeException.From($"{listing}: corrupt file listing", e); }
            foreach (var path in cached) HubPaths.RepoFile(path, $"{listing}: entry");
            return cached;
        }
        var files = new List<string>();
        string? url = $"{Endpoint}/api/{repoType}s/{repoId}/tree/{Uri.EscapeDataString(revision)}?recursive=true";
        while (url is not null)
        {
            using var response = Send(url, repoId);
            JsonDocument doc;
            try { doc = JsonDocument.Parse(response.Content.ReadAsStream()); }
            catch (JsonException e) { throw MlsaeException.From($"{repoId}: unexpected reply from the hub's tree API", e); }
            using var _ = doc;
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new MlsaeException($"{repoId}: unexpected reply from the hub's tree API");
            foreach (var entry in doc.RootElement.EnumerateArray())
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("type", out var type)
                    && type.ValueKind == JsonValueKind.String && type.GetString() == "file")
                    files.Add(HubPaths.RepoFile(FilePath(entry, repoId), $"{repoId}: the file listing entry from {Endpoint}"));
            url = NextPage(response);
        }
        files.Sort(StringComparer.Ordinal);
        IO.AtomicFile.WriteText(listing, JsonSerializer.Serialize(files));
        return files;
    }

    static string FilePath(JsonElement entry, string repoId) =>
        entry.TryGetProperty("path", out var path) && path.ValueKind == JsonValueKind.String ? path.GetString()!
            : throw new MlsaeException($"{repoId}: the hub's tree API listed a file without a path");

    HttpResponseMessage Send(string url, string repoId)
    {
        HttpResponseMessage response;
        try { response = get.Send(new HttpRequestMessage(HttpMethod.Get, url), HttpCompletionOption.ResponseContentRead); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new MlsaeException($"{repoId}: could not reach {Endpoint} ({e.Message}); set HF_HUB_OFFLINE=1 to use only the cache");
        }
        if (response.IsSuccessStatusCode) return response;
        using var _ = response;
        throw response.StatusCode switch
        {
            HttpStatusCode.NotFound => new MlsaeException($"{repoId}: repository or revision not found on {Endpoint} (private or gated repos need HF_TOKEN)"),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new MlsaeException($"{repoId}: access denied ({(int)response.StatusCode}); set HF_TOKEN for private or gated repos"),
            _ => new MlsaeException($"{repoId}: listing files failed with HTTP {(int)response.StatusCode}"),
        };
    }

    /// <summary>The <c>rel="next"</c> URL of an RFC 8288 Link header, as the hub paginates.</summary>
    static string? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var part in string.Join(",", links).Split(','))
        {
            var pieces = part.Split(';');
            if (pieces.Skip(1).Any(p => p.Trim().Replace(" ", "") is "rel=\"next\"" or "rel=next"))
                return pieces[0].Trim().TrimStart('<').TrimEnd('>');
        }
        return null;
    }
}

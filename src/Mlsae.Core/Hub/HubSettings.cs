namespace Mlsae.Hub;

/// <summary>
/// Where a <see cref="HubClient"/> looks for files and how it may reach the hub. Built explicitly
/// by callers and tests; <see cref="FromEnvironment"/> reads the variables huggingface_hub reads.
/// </summary>
public sealed record HubSettings
{
    /// <summary>The public hub, used when <c>HF_ENDPOINT</c> is not set.</summary>
    public const string PublicEndpoint = "https://huggingface.co";

    /// <summary>The hub base URL, http or https (<c>HF_ENDPOINT</c>; a mirror or a proxy is trusted
    /// with the token but never with paths outside the cache).</summary>
    public string Endpoint { get; init; } = PublicEndpoint;

    /// <summary>The bearer token sent with every request, or null for anonymous access (<c>HF_TOKEN</c>,
    /// else the token file of <c>hf auth login</c>: <see cref="HubToken"/>).</summary>
    public string? Token { get; init; }

    /// <summary>When true, only the cache is used and the network is never touched (<c>HF_HUB_OFFLINE</c>).</summary>
    public bool Offline { get; init; }

    /// <summary>The local cache that downloads go to (<c>HF_HUB_CACHE</c>, <c>HF_HOME</c>, <c>XDG_CACHE_HOME</c>).</summary>
    public required HubCache Cache { get; init; }

    /// <summary>The settings the environment selects, as huggingface_hub reads them.</summary>
    public static HubSettings FromEnvironment()
    {
        var endpoint = Environment.GetEnvironmentVariable("HF_ENDPOINT");
        var token = HubToken.FromEnvironment();
        return new HubSettings
        {
            Endpoint = string.IsNullOrEmpty(endpoint) ? PublicEndpoint : endpoint,
            Token = token,
            Offline = Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") is "1" or "true" or "TRUE" or "yes",
            Cache = HubCache.FromEnvironment(),
        };
    }

    /// <summary>Fails with a message naming the setting when the endpoint is not an http(s) URL.</summary>
    public void Validate()
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new MlsaeException($"HF_ENDPOINT: '{IO.ContainedPath.Printable(Endpoint)}' is not an http(s) URL");
    }

    /// <summary>The settings with the token masked, so that logs and test output never show it.</summary>
    public override string ToString() =>
        $"HubSettings {{ Endpoint = {Endpoint}, Token = {(Token is null ? "none" : "***")}, Offline = {Offline}, Cache = {Cache.Root} }}";
}

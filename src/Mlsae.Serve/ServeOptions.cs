using System.Net;

namespace Mlsae.Serve;

/// <summary>How the explorer listens and what it lets a request do.</summary>
public sealed record ServeOptions
{
    /// <summary>The address to bind (<c>--host</c>); loopback unless asked otherwise.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>The port (<c>--port</c>); 0 picks a free one, printed once bound.</summary>
    public int Port { get; init; } = 8080;
    /// <summary>The token every request must carry (<c>--token</c>); required, and generated when not
    /// given, for a non-loopback host; null on loopback without one.</summary>
    public string? Token { get; init; }
    /// <summary>Longest prompt in tokens (<c>--max-prompt-tokens</c>).</summary>
    public int MaxPromptTokens { get; init; } = 1024;
    /// <summary>Largest request body in bytes.</summary>
    public long MaxBodyBytes { get; init; } = 256 * 1024;
    /// <summary>Requests computed at once; the model runs on the CPU's threads, so more only queue inside torch.</summary>
    public int MaxConcurrentRequests { get; init; } = 2;
    /// <summary>Requests waiting for a slot; beyond these a request gets 503 with Retry-After.</summary>
    public int QueueLength { get; init; } = 16;
    /// <summary>Longest a request may compute before it is answered 504.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether <see cref="Host"/> is a loopback address (or <c>localhost</c>).</summary>
    public bool IsLoopback => Host == "localhost" || (IPAddress.TryParse(Host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>Checks every field, naming the flag of a bad one.</summary>
    public ServeOptions Validate()
    {
        if (Host != "localhost" && !IPAddress.TryParse(Host, out _)) throw new MlsaeException($"--host: '{Host}' is not an IP address or localhost");
        if (Port is < 0 or > 65535) throw new MlsaeException($"--port must be 0..65535, got {Port}");
        if (MaxPromptTokens <= 0) throw new MlsaeException($"--max-prompt-tokens must be positive, got {MaxPromptTokens}");
        if (Token is { Length: < 8 }) throw new MlsaeException("--token must have at least 8 characters");
        if (MaxBodyBytes <= 0 || MaxConcurrentRequests <= 0 || QueueLength < 0 || RequestTimeout <= TimeSpan.Zero)
            throw new MlsaeException("serve: body size, concurrency and timeout must be positive");
        return this;
    }
}

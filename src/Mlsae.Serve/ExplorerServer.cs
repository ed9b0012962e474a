using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Mlsae.Serve.Endpoints;

namespace Mlsae.Serve;

/// <summary>
/// The explorer's web server: Kestrel on one address, the guard (loopback Host, token), a
/// concurrency limit on the API (excess requests queue, then get 503 with Retry-After), the API
/// routes and the embedded front end. No CORS middleware is added, so no other origin is allowed.
/// </summary>
public sealed class ExplorerServer : IAsyncDisposable
{
    /// <summary>The rate-limiter policy of the API group.</summary>
    const string ApiPolicy = "api";
    /// <summary>Seconds a rejected client is told to wait.</summary>
    public const int RetryAfterSeconds = 1;

    readonly WebApplication app;

    ExplorerServer(WebApplication app, string url)
    {
        this.app = app;
        Url = url;
    }

    /// <summary>The URL it listens on (the real port when 0 was asked for), without the token.</summary>
    public string Url { get; }

    /// <summary>Builds and starts the server; returns once it accepts connections.</summary>
    public static async Task<ExplorerServer> StartAsync(Explorer explorer, ServeOptions options, CancellationToken cancel = default)
    {
        options.Validate();
        if (!options.IsLoopback && options.Token is null) throw new MlsaeException($"--host {options.Host}: a non-loopback host needs a token (pass --token, or leave it out of the CLI to have one generated)");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.AddServerHeader = false;
            var address = options.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(options.Host);
            kestrel.Listen(address, options.Port);
        });
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(ApiPolicy, _ => RateLimitPartition.GetConcurrencyLimiter("all", _ => new ConcurrencyLimiterOptions
            {
                PermitLimit = options.MaxConcurrentRequests, QueueLimit = options.QueueLength, QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            }));
            limiter.OnRejected = async (rejected, token) =>
            {
                rejected.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ApiCall.Write(rejected.HttpContext, StatusCodes.Status503ServiceUnavailable, ApiJson.Error("busy: too many requests at once; retry later"));
            };
        });
        var app = builder.Build();
        var guard = new RequestGuard(options);
        app.Use(guard.Invoke);
        app.UseRateLimiter();
        var api = app.MapGroup("/api").RequireRateLimiting(ApiPolicy);
        InfoEndpoints.Map(api, explorer, options);
        PromptEndpoints.Map(api, explorer, options);
        LatentEndpoints.Map(api, explorer, options);
        api.MapFallback(context => ApiCall.Write(context, StatusCodes.Status404NotFound, ApiJson.Error($"no route {context.Request.Method} {context.Request.Path}")));
        FrontEndEndpoints.Map(app);
        try
        {
            await app.StartAsync(cancel);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new MlsaeException($"--host {options.Host} --port {options.Port}: cannot listen ({e.Message.Split('\n')[0]})");
        }
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(bound).Port;
        var host = IPAddress.TryParse(options.Host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{options.Host}]" : options.Host;
        return new ExplorerServer(app, $"http://{host}:{port}");
    }

    /// <summary>Runs until <paramref name="cancel"/> fires.</summary>
    public Task WaitAsync(CancellationToken cancel) => app.WaitForShutdownAsync(cancel);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // Open keep-alive connections and requests in flight get a few seconds, not the host's 30.
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await app.StopAsync(grace.Token);
        await app.DisposeAsync();
    }
}

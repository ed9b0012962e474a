using Mlsae.Hub;

namespace Mlsae.Cli;

/// <summary>The one hub client of a command: made from the environment (<c>HF_ENDPOINT</c>,
/// <c>HF_TOKEN</c>, <c>HF_HUB_OFFLINE</c>, the cache variables) on first use, reporting downloads on stderr.</summary>
static class CliHub
{
    /// <summary>A function that creates the client on its first call and returns the same one after.</summary>
    public static Func<HubClient> Lazy(CliConsole console)
    {
        HubClient? client = null;
        return () => client ??= Create(console);
    }

    static HubClient Create(CliConsole console)
    {
        var last = DateTime.MinValue;
        return HubClient.FromEnvironment(progress: (file, received, total) =>
        {
            if (DateTime.UtcNow - last < TimeSpan.FromSeconds(2) && received != total) return;
            last = DateTime.UtcNow;
            console.Error.WriteLine(total is long t ? $"download {file}: {received / 1e6:F1}/{t / 1e6:F1} MB" : $"download {file}: {received / 1e6:F1} MB");
        });
    }
}

using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Mlsae.Serve.Endpoints;

/// <summary>The static front end, embedded in the assembly: each file under <c>wwwroot/</c> gets
/// its own fixed route (read once at start-up), so no request names a file on disk.</summary>
public static class FrontEndEndpoints
{
    static readonly Dictionary<string, string> ContentTypes = new()
    {
        [".html"] = "text/html; charset=utf-8", [".js"] = "text/javascript; charset=utf-8", [".css"] = "text/css; charset=utf-8", [".svg"] = "image/svg+xml",
    };

    /// <summary>The embedded files by route (<c>/app.js</c>), with <c>/</c> for index.html.</summary>
    public static IReadOnlyDictionary<string, (byte[] Bytes, string ContentType)> Files { get; } = Load();

    static Dictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(FrontEndEndpoints).Assembly;
        var files = new Dictionary<string, (byte[], string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("wwwroot/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var route = name == "wwwroot/index.html" ? "/" : "/" + name["wwwroot/".Length..];
            files[route] = (memory.ToArray(), ContentTypes.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream"));
        }
        return files;
    }

    /// <summary>Maps one GET route per file.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var (route, (bytes, type)) in Files)
            app.MapGet(route, (HttpContext context) =>
            {
                context.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(bytes, type);
            });
    }
}

using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Mlsae.Serve;

/// <summary>
/// Checks every request before routing. On a loopback host the <c>Host</c> header must name
/// loopback too (a page elsewhere cannot reach the server through DNS rebinding). With a token
/// (required off loopback) every request must carry it: the <c>token</c> query parameter of the
/// printed URL, which sets an HttpOnly same-site cookie for the page's own requests, or that cookie,
/// or <c>Authorization: Bearer</c>. Also sets headers that keep the page to its own origin; no CORS
/// header is ever sent.
/// </summary>
public sealed class RequestGuard(ServeOptions options)
{
    /// <summary>The cookie holding the token.</summary>
    public const string Cookie = "mlsae_token";

    static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>The middleware.</summary>
    public async Task Invoke(HttpContext context, RequestDelegate next)
    {
        var headers = context.Response.Headers;
        headers["X-Content-Type-Options"] = "nosniff";
        headers["X-Frame-Options"] = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";
        if (options.IsLoopback && !LoopbackNames.Contains(context.Request.Host.Host, StringComparer.OrdinalIgnoreCase))
        {
            await ApiCall.Write(context, StatusCodes.Status400BadRequest, ApiJson.Error($"Host '{context.Request.Host.Host}' is not loopback"));
            return;
        }
        if (options.Token is string token)
        {
            var query = context.Request.Query["token"].ToString();
            var bearer = context.Request.Headers.Authorization.ToString() is var a && a.StartsWith("Bearer ", StringComparison.Ordinal) ? a[7..] : "";
            var cookie = context.Request.Cookies[Cookie] ?? "";
            if (!Matches(query, token) && !Matches(bearer, token) && !Matches(cookie, token))
            {
                await ApiCall.Write(context, StatusCodes.Status401Unauthorized, ApiJson.Error("missing or wrong token (open the URL the server printed)"));
                return;
            }
            if (Matches(query, token))
                context.Response.Cookies.Append(Cookie, token, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });
        }
        await next(context);
    }

    /// <summary>Constant-time comparison, so the time taken says nothing of how much matched.</summary>
    static bool Matches(string given, string token) =>
        given.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(token));
}

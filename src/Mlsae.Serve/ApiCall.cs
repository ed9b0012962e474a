using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Mlsae.Serve;

/// <summary>
/// The one way an API route answers: the body read within the size limit and parsed, the work run
/// under the per-request timeout, the result written as JSON, and every failure a one-line
/// <c>{"error": ...}</c> — 400 for bad input (an <see cref="MlsaeException"/>), 413 for a body over
/// the limit, 504 for a timeout, 500 for a bug — never a stack trace.
/// </summary>
public static class ApiCall
{
    /// <summary>Answers a GET with <paramref name="work"/>'s JSON.</summary>
    public static Task Get(HttpContext context, ServeOptions options, Func<CancellationToken, JsonNode> work) =>
        Answer(context, options, work);

    /// <summary>Answers a POST: parses the JSON body, then <paramref name="work"/>.</summary>
    public static async Task Post(HttpContext context, ServeOptions options, Func<JsonElement, CancellationToken, JsonNode> work)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            body = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            await Write(context, StatusCodes.Status400BadRequest, ApiJson.Error($"bad JSON: {e.Message.Split('.')[0]}"));
            return;
        }
        catch (BadHttpRequestException e)
        {
            await Write(context, e.StatusCode, ApiJson.Error(e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? $"the body is larger than {options.MaxBodyBytes} bytes" : e.Message));
            return;
        }
        await Answer(context, options, cancel => work(body, cancel));
    }

    static async Task Answer(HttpContext context, ServeOptions options, Func<CancellationToken, JsonNode> work)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(options.RequestTimeout);
        int status;
        JsonNode result;
        try
        {
            result = work(timeout.Token);
            status = StatusCodes.Status200OK;
        }
        catch (MlsaeException e)
        {
            (status, result) = (StatusCodes.Status400BadRequest, ApiJson.Error(e.Message));
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            (status, result) = (StatusCodes.Status504GatewayTimeout, ApiJson.Error($"the request took longer than {options.RequestTimeout.TotalSeconds:G} s"));
        }
        catch (NotFoundException e)
        {
            (status, result) = (StatusCodes.Status404NotFound, ApiJson.Error(e.Message));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            (status, result) = (StatusCodes.Status500InternalServerError, ApiJson.Error($"internal error ({e.GetType().Name})"));
        }
        await Write(context, status, result);
    }

    /// <summary>Writes <paramref name="body"/> as the answer.</summary>
    public static async Task Write(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(ApiJson.Options), context.RequestAborted);
    }
}

/// <summary>What a route needs is not loaded (no examples, no dists, no run): answered 404.</summary>
public sealed class NotFoundException(string message) : Exception(message);

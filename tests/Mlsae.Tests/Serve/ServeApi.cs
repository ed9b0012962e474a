using System.Net;
using System.Text;
using System.Text.Json;

namespace Mlsae.Tests.Serve;

/// <summary>Small HTTP helpers for the explorer tests.</summary>
static class ServeApi
{
    public sealed record Answer(HttpStatusCode Status, JsonElement Json, HttpResponseMessage Response);

    public static async Task<Answer> Post(HttpClient client, string path, string body)
    {
        var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        return new Answer(response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone(), response);
    }

    public static Task<Answer> Post(HttpClient client, string path, object body) => Post(client, path, JsonSerializer.Serialize(body));

    public static async Task<Answer> Get(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        return new Answer(response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone(), response);
    }
}

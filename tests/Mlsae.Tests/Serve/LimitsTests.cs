using System.Net;
using Mlsae.Serve;
using Xunit;

namespace Mlsae.Tests.Serve;

/// <summary>Bad requests, size limits, the token, the Host check, CORS and bounded concurrency.</summary>
[Collection(ServeCollection.Name)]
public sealed class LimitsTests(ServeFixture serve)
{
    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "/api/prompt", "{not json", "bad JSON" },
        { "/api/prompt", "[1, 2]", "JSON object" },
        { "/api/prompt", "{}", "exactly one of" },
        { "/api/prompt", """{"text": "a", "input_ids": [1]}""", "exactly one of" },
        { "/api/prompt", """{"text": 5}""", "must be a string" },
        { "/api/prompt", """{"input_ids": [1, "x"]}""", "array of integers" },
        { "/api/prompt", """{"input_ids": [1, 99999999]}""", "token id 99999999 is outside the model's vocabulary (vocab_size" },
        { "/api/prompt", """{"input_ids": [-1]}""", "outside the model's vocabulary" },
        { "/api/prompt", """{"input_ids": []}""", "no tokens" },
        { "/api/prompt", """{"text": ""}""", "no tokens" },
        { "/api/prompt/reconstruct", """{"text": "a b"}""", "missing \"layer\"" },
        { "/api/prompt/reconstruct", """{"text": "a b", "layer": 6}""", "not one of the SAE's layers" },
        { "/api/prompt/reconstruct", """{"text": "a b", "layer": 1.5}""", "must be an integer" },
        { "/api/prompt/steer", """{"text": "a b", "layer": 0, "latent": 256, "factor": 1}""", "out of range" },
        { "/api/prompt/steer", """{"text": "a b", "layer": 0, "latent": 1}""", "missing \"factor\"" },
        { "/api/prompt/steer", """{"text": "a b", "layer": 0, "latent": 1, "factor": "big"}""", "finite number" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadRequests_Answer400WithOneLine(string path, string body, string message)
    {
        var answer = await ServeApi.Post(serve.Client, path, body);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        var error = answer.Json.GetProperty("error").GetString()!;
        Assert.Contains(message, error);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData("/api/latent/256", "out of range")]
    [InlineData("/api/latent/-1", "not an integer")]
    [InlineData("/api/latent/abc", "not an integer")]
    [InlineData("/api/latents?sort=bogus", "?sort=")]
    [InlineData("/api/latents?limit=0", "?limit=")]
    [InlineData("/api/latents?min_freq=x", "must be a number")]
    [InlineData("/api/search", "missing ?token=")]
    public async Task BadQueries_Answer400(string path, string message)
    {
        var answer = await ServeApi.Get(serve.Client, path);
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains(message, answer.Json.GetProperty("error").GetString()!);
    }

    [Fact]
    public async Task TooLongPromptsAndBodies_AreRefused()
    {
        var ids = Enumerable.Repeat(5, 1025).ToArray();
        var tooLong = await ServeApi.Post(serve.Client, "/api/prompt", new { input_ids = ids });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.Status);
        Assert.Contains("--max-prompt-tokens", tooLong.Json.GetProperty("error").GetString()!);
        var huge = await ServeApi.Post(serve.Client, "/api/prompt", new { text = new string('a', 300_000) });
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.Status);
        Assert.Contains("larger than", huge.Json.GetProperty("error").GetString()!);
    }

    [Fact]
    public async Task NoCorsHeader_AndAForeignHostIsRefused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        request.Headers.Add("Origin", "http://evil.example");
        using var response = await serve.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/info");
        rebound.Headers.Host = "evil.example";
        using var refused = await serve.Client.SendAsync(rebound);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task Token_IsCheckedOnEveryRequest()
    {
        await using var server = await ExplorerServer.StartAsync(serve.Explorer, new ServeOptions { Port = 0, Token = "secret-token-123" });
        using var client = new HttpClient(new HttpClientHandler { UseCookies = true }) { BaseAddress = new Uri(server.Url) };
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/info")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/?token=wrong-token-000")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/?token=secret-token-123")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/info")).StatusCode);       // the cookie the URL set
        using var bare = new HttpClient { BaseAddress = new Uri(server.Url) };
        bare.DefaultRequestHeaders.Authorization = new("Bearer", "secret-token-123");
        Assert.Equal(HttpStatusCode.OK, (await bare.GetAsync("/api/info")).StatusCode);
    }

    [Fact]
    public async Task NonLoopbackHost_NeedsAToken()
    {
        var e = await Assert.ThrowsAsync<MlsaeException>(() => ExplorerServer.StartAsync(serve.Explorer, new ServeOptions { Host = "0.0.0.0", Port = 0 }));
        Assert.Contains("needs a token", e.Message);
    }

    [Fact]
    public async Task Load_ConcurrentClientsSeeOnly200And503()
    {
        await using var server = await ExplorerServer.StartAsync(serve.Explorer, new ServeOptions { Port = 0, MaxConcurrentRequests = 1, QueueLength = 1 });
        using var client = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(60) };
        var body = System.Text.Json.JsonSerializer.Serialize(new { text = "The old keys that the baker found near the river are red." });
        var statuses = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            var codes = new List<(HttpStatusCode, bool)>();
            for (int i = 0; i < 3; i++)
            {
                using var response = await client.PostAsync("/api/prompt", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
                await response.Content.ReadAsStringAsync();
                codes.Add((response.StatusCode, response.Headers.RetryAfter is not null));
            }
            return codes;
        }));
        var all = statuses.SelectMany(s => s).ToList();
        Assert.All(all, s => Assert.True(s.Item1 is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"status {s.Item1}"));
        Assert.Contains(all, s => s.Item1 == HttpStatusCode.OK);
        Assert.Contains(all, s => s.Item1 == HttpStatusCode.ServiceUnavailable);
        Assert.All(all.Where(s => s.Item1 == HttpStatusCode.ServiceUnavailable), s => Assert.True(s.Item2, "503 without Retry-After"));
    }
}

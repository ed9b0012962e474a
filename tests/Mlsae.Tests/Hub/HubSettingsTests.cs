using Mlsae.Hub;
using Mlsae.Tests.Cli;
using Xunit;

namespace Mlsae.Tests.Hub;

[Collection(EnvironmentCollection.Name)]
public class HubSettingsTests
{
    static readonly string[] Variables = ["HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HUB_CACHE", "HF_HOME"];

    [Fact]
    public void FromEnvironmentReadsTheHfVariablesAndTheConstructorDoesNot()
    {
        var saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
        var cache = Fixtures.TempDir();
        try
        {
            Environment.SetEnvironmentVariable("HF_ENDPOINT", "http://127.0.0.1:9/");
            Environment.SetEnvironmentVariable("HF_TOKEN", "secret");
            Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", "1");
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", cache);
            var settings = HubSettings.FromEnvironment();
            Assert.Equal(new HubSettings { Endpoint = "http://127.0.0.1:9/", Token = "secret", Offline = true, Cache = settings.Cache }, settings);
            Assert.Equal(cache, settings.Cache.Root);
            using (var fromEnv = HubClient.FromEnvironment())
            {
                Assert.Equal("http://127.0.0.1:9", fromEnv.Endpoint);
                Assert.True(fromEnv.Offline);
            }
            // Explicit settings win over everything in the environment.
            var other = new HubCache(Fixtures.TempDir());
            using var hub = new HubClient(new HubSettings { Cache = other });
            Assert.Equal(HubSettings.PublicEndpoint, hub.Endpoint);
            Assert.False(hub.Offline);
            Assert.Same(other, hub.Cache);
            foreach (var v in Variables) Environment.SetEnvironmentVariable(v, null);
            Assert.Equal(HubSettings.PublicEndpoint, HubSettings.FromEnvironment().Endpoint);
            Assert.Null(HubSettings.FromEnvironment().Token);
        }
        finally
        {
            foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
        }
    }

    [Fact]
    public void TheTokenIsNeverPrintedAndTheEndpointMustBeHttp()
    {
        var settings = new HubSettings { Token = "hf_secret", Cache = new HubCache(Fixtures.TempDir()) };
        Assert.DoesNotContain("hf_secret", settings.ToString());
        var e = Assert.Throws<MlsaeException>(() => new HubClient(settings with { Endpoint = "file:///etc" }));
        Assert.Contains("HF_ENDPOINT", e.Message);
        Assert.Throws<MlsaeException>(() => new HubClient(settings with { Endpoint = "not a url" }));
    }
}

using System.Text.Json.Nodes;
using Mlsae.Training;
using Xunit;

namespace Mlsae.Tests.Training;

public class TrainOptionsTests
{
    static string Write(string json)
    {
        var path = Path.Combine(Fixtures.TempDir(), "run.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void RunJsonIsOneFlatObjectThatRoundTrips()
    {
        var options = new TrainOptions
        {
            Model = new ModelOptions { Name = "m", Layers = [2, 0], DType = "bfloat16" },
            Data = new TrainDataOptions { Source = "d", MaxLength = 64, Shard = "1/3" },
            Autoencoder = new AutoencoderOptions { ExpansionFactor = 4, AuxK = null, ReferenceQuirks = true },
            Optimizer = new OptimizerOptions { Lr = 3e-4 },
            Runtime = new RuntimeOptions { LogEvery = 7 },
        };
        var json = JsonNode.Parse(options.ToJson())!.AsObject();
        Assert.Equal(TrainOptions.CurrentFormatVersion, json["format_version"]!.GetValue<int>());
        Assert.All(json, kv => Assert.False(kv.Value is JsonObject, kv.Key));   // flat
        Assert.Equal("m", json["model"]!.GetValue<string>());
        Assert.Equal(4, json["expansion_factor"]!.GetValue<int>());
        Assert.Equal("bfloat16", json["model_dtype"]!.GetValue<string>());
        Assert.Null(json["auxk"]);
        Assert.Equal(options with { }, TrainOptions.Load(Write(options.ToJson())), new OptionsComparer());
    }

    [Theory]
    [InlineData("{\"model\": null, \"data\": \"d\"}", "not a valid run.json")]
    [InlineData("{\"data\": \"d\"}", "not a valid run.json")]
    [InlineData("[1, 2]", "not a valid run.json")]
    [InlineData("{\"model\": \"m\", \"data\": \"d\", \"k\": \"32\"}", "not a valid run.json")]
    public void AnEditedRunJsonIsOneCleanError(string json, string message)
    {
        var path = Write(json);
        var error = Assert.Throws<MlsaeException>(() => TrainOptions.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void ANewerFormatAndUnsupportedValuesAreRefusedByName()
    {
        var newer = TrainOptions.Load(Write("{\"format_version\": 9, \"model\": \"m\", \"data\": \"d\"}"));
        Assert.Contains("newer mlsae", Assert.Throws<MlsaeException>(() => newer.Validate()).Message);
        var kind = TrainOptions.Load(Write("{\"model\": \"m\", \"data\": \"d\", \"kind\": \"transcoder\"}"));
        Assert.Equal("--kind: 'transcoder' is not a sparse coder this version trains (mlsae, per-layer, crosscoder)", Assert.Throws<MlsaeException>(() => kind.Validate()).Message);
        var quirks = TrainOptions.Load(Write("{\"model\": \"m\", \"data\": \"d\", \"kind\": \"crosscoder\", \"reference_quirks\": true}"));
        Assert.Contains("the reference has no crosscoder", Assert.Throws<MlsaeException>(() => quirks.Validate()).Message);
        TrainOptions.Load(Write("{\"model\": \"m\", \"data\": \"d\", \"kind\": \"per-layer\", \"reference_quirks\": true}")).Validate();
        var huge = new TrainOptions { Model = new ModelOptions { Name = "m" }, Data = new TrainDataOptions { Source = "d" }, Optimizer = new OptimizerOptions { MaxTokens = long.MaxValue } };
        Assert.Contains("--max-tokens", Assert.Throws<MlsaeException>(() => huge.Validate()).Message);
    }

    sealed class OptionsComparer : IEqualityComparer<TrainOptions>
    {
        public bool Equals(TrainOptions? a, TrainOptions? b) => a!.ToJson() == b!.ToJson();
        public int GetHashCode(TrainOptions o) => o.ToJson().GetHashCode();
    }
}

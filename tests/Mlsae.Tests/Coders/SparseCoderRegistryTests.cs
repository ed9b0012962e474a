using System.Text.Json.Nodes;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Xunit;

namespace Mlsae.Tests.Coders;

/// <summary>The registry picks the coder by the config's <c>kind</c>; no <c>kind</c> is an MLSAE.</summary>
public class SparseCoderRegistryTests
{
    static readonly string Reference = Fixtures.Path("mlsae", "sae_checkpoint");

    static string CopyWithConfig(Func<JsonObject, JsonObject> edit)
    {
        var dir = Fixtures.TempDir();
        File.Copy(Path.Combine(Reference, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Reference, "config.json")))!.AsObject();
        File.WriteAllText(Path.Combine(dir, "config.json"), edit(config).ToJsonString());
        return dir;
    }

    [Fact]
    public void ACheckpointWithoutKindLoadsAsAnMlsaeAndSavesWithoutKind()
    {
        Assert.DoesNotContain("\"kind\"", File.ReadAllText(Path.Combine(Reference, "config.json")));
        Assert.Equal("mlsae", SparseCoderRegistry.KindOf(Reference));
        var settings = new SparseCoderSettings { ReferenceQuirks = true, DeadTokensThreshold = 123 };
        using var loaded = SparseCoderRegistry.Load(Reference, settings);
        ISparseCoder coder = loaded.Coder;
        Assert.IsType<MlsaeAutoencoder>(coder);
        Assert.Equal(("mlsae", 48, 192, 6, (int?)12, (int?)null, 1e-3), (coder.Kind, coder.NInputs, coder.NLatents, coder.K, coder.AuxK, coder.Layers, coder.DeadThreshold));
        Assert.Same(settings, coder.Settings);
        Assert.Null(loaded.ModelName);
        var dir = Fixtures.TempDir();
        coder.Save(dir);
        Assert.Equal(File.ReadAllBytes(Path.Combine(Reference, "config.json")), File.ReadAllBytes(Path.Combine(dir, "config.json")));
        Assert.Equal("mlsae", SparseCoderRegistry.KindOf(dir));
    }

    [Fact]
    public void AnExplicitMlsaeKindLoadsToo()
    {
        var dir = CopyWithConfig(c => { c["kind"] = "mlsae"; return c; });
        using var loaded = SparseCoderRegistry.Load(dir, new SparseCoderSettings());
        Assert.Equal(192, loaded.Coder.NLatents);
    }

    [Fact]
    public void AnUnknownKindIsAOneLineErrorNamingTheFile()
    {
        var dir = CopyWithConfig(c => { c["kind"] = "crosscoder-v9"; return c; });
        var e = Assert.Throws<MlsaeException>(() => SparseCoderRegistry.Load(dir, new SparseCoderSettings()));
        Assert.Equal($"{Path.Combine(dir, "config.json")}: unknown sparse coder kind \"crosscoder-v9\" (known: mlsae, per-layer, crosscoder)", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("{\"kind\": 3}", "\"kind\" must be a string, got 3")]
    [InlineData("{\"kind\": null}", "\"kind\" must be a string, got null")]
    [InlineData("{nope", "malformed JSON")]
    [InlineData("[1]", "expected a JSON object")]
    public void ABadConfigIsAnErrorNamingTheFile(string config, string message)
    {
        var dir = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(dir, "config.json"), config);
        var e = Assert.Throws<MlsaeException>(() => SparseCoderRegistry.Load(dir, new SparseCoderSettings()));
        Assert.StartsWith($"{Path.Combine(dir, "config.json")}: {message}", e.Message);
    }

    [Fact]
    public void AFolderWithoutConfigIsAnError()
    {
        var dir = Fixtures.TempDir();
        var e = Assert.Throws<MlsaeException>(() => SparseCoderRegistry.Load(dir, new SparseCoderSettings()));
        Assert.Equal($"{dir}: no config.json (not a sparse coder checkpoint folder)", e.Message);
    }
}

using System.Text.Json.Nodes;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

public class MlsaeCheckpointTests
{
    static readonly string Reference = Fixtures.Path("mlsae", "sae_checkpoint");
    static readonly SparseCoderSettings Settings = new() { ReferenceQuirks = true };

    [Fact]
    public void SavesTheReferenceFilesByteForByte()
    {
        using var loaded = MlsaeCheckpoint.Load(Reference, Settings);
        var dir = Fixtures.TempDir();
        MlsaeCheckpoint.Save(loaded.Autoencoder, dir);
        Assert.Equal(File.ReadAllText(Path.Combine(Reference, "config.json")), File.ReadAllText(Path.Combine(dir, "config.json")));
        using var theirs = SafeTensorsFile.Open(Path.Combine(Reference, "model.safetensors"));
        using var ours = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        Assert.Equal(theirs.Names.Order(), ours.Names.Order());
        foreach (var name in theirs.Names)
        {
            Assert.Equal(theirs.DType(name), ours.DType(name));
            Assert.Equal(theirs.Shape(name), ours.Shape(name));
            Assert.True(theirs.Read(name).eq(ours.Read(name)).all().item<bool>(), name);
        }
        Assert.Empty(ours.Metadata);
        Assert.Equal(File.ReadAllBytes(Path.Combine(Reference, "model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
    }

    [Fact]
    public void PublishedCheckpointsWithoutLastNonzeroAndTfmCheckpointsLoad()
    {
        using var scope = NewDisposeScope();
        using var reference = SafeTensorsFile.Open(Path.Combine(Reference, "model.safetensors"));
        var published = Fixtures.TempDir();
        File.Copy(Path.Combine(Reference, "config.json"), Path.Combine(published, "config.json"));
        File.WriteAllText(Path.Combine(published, "README.md"), "model card");
        SafeTensorsWriter.Write(Path.Combine(published, "model.safetensors"), new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = reference.Read("encoder.weight"),
            ["decoder.weight"] = reference.Read("decoder.weight"),
            ["pre_encoder_bias"] = reference.Read("pre_encoder_bias"),
        });
        using (var loaded = MlsaeCheckpoint.Load(published, Settings))
            Assert.Equal(0, loaded.Autoencoder.DeadLatents.LastNonzero.sum().item<long>());

        var tfm = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(tfm, "config.json"), new JsonObject
        {
            ["model_name"] = "EleutherAI/pythia-70m-deduped", ["layers"] = new JsonArray(0, 1), ["expansion_factor"] = 4, ["k"] = 6,
            ["auxk"] = 12, ["auxk_coef"] = 0.03125, ["dead_tokens_threshold"] = 10000000, ["dead_threshold"] = 0.001, ["lr"] = 0.0001,
            ["standardize"] = true, ["skip_special_tokens"] = true, ["max_length"] = 2048, ["batch_size"] = 1, ["accumulate_grad_batches"] = 64,
            ["tuned_lens"] = false,
        }.ToJsonString());
        SafeTensorsWriter.Write(Path.Combine(tfm, "model.safetensors"), new Dictionary<string, Tensor>
        {
            ["autoencoder.encoder.weight"] = reference.Read("encoder.weight"),
            ["autoencoder.decoder.weight"] = reference.Read("decoder.weight"),
            ["autoencoder.pre_encoder_bias"] = reference.Read("pre_encoder_bias"),
            ["transformer.model.embed_out.weight"] = zeros(3, 48),
        });
        using var fromTfm = MlsaeCheckpoint.Load(tfm, Settings);
        Assert.Equal("EleutherAI/pythia-70m-deduped", fromTfm.ModelName);
        Assert.Equal([0, 1], fromTfm.Layers!);
        Assert.Equal(new MlsaeConfig { NInputs = 48, NLatents = 192, K = 6, AuxK = 12, DeadStepsThreshold = 76, DeadThreshold = 1e-3 }, fromTfm.Autoencoder.Config);
        Fixtures.AssertClose(reference.Read("decoder.weight"), fromTfm.Autoencoder.Decoder.t(), 0, 0, "decoder");
    }

    [Theory]
    [InlineData("config.json", "{\"n_inputs\": 48}", "missing \"n_latents\"")]
    [InlineData("config.json", "{\"n_inputs\": 48, \"n_latents\": 192, \"k\": 500, \"dead_steps_threshold\": 2}", "k must be in 1..n_latents")]
    [InlineData("config.json", "{nope", "malformed JSON")]
    [InlineData("model.safetensors", "truncated", "model.safetensors")]
    public void BadCheckpointsAreErrorsNamingTheFile(string file, string content, string message)
    {
        var dir = Fixtures.TempDir();
        foreach (var f in Directory.GetFiles(Reference)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(dir, file), content);
        var e = Assert.Throws<MlsaeException>(() => MlsaeCheckpoint.Load(dir, Settings));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void WrongShapesAreErrorsNamingTheTensor()
    {
        using var scope = NewDisposeScope();
        var dir = Fixtures.TempDir();
        File.Copy(Path.Combine(Reference, "config.json"), Path.Combine(dir, "config.json"));
        using var reference = SafeTensorsFile.Open(Path.Combine(Reference, "model.safetensors"));
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = reference.Read("encoder.weight"),
            ["decoder.weight"] = reference.Read("decoder.weight").t().contiguous(),   // [F, D] instead of [D, F]
            ["pre_encoder_bias"] = reference.Read("pre_encoder_bias"),
        });
        Assert.Contains("decoder.weight: expected shape [48, 192], got [192, 48]", Assert.Throws<MlsaeException>(() => MlsaeCheckpoint.Load(dir, Settings)).Message);
    }
}

[Xunit.Collection(Mlsae.Tests.Cli.EnvironmentCollection.Name)]
public class MlsaeCheckpointHubTests
{
    [Fact]
    public void AHubIdResolvesThroughTheCache()
    {
        var folder = Fixtures.Path("mlsae", "sae_checkpoint");
        using var server = new Mlsae.Tests.Hub.LoopbackHub("tim-lawson/mlsae-fixture-x4-k6", folder);
        using var hub = new Mlsae.Hub.HubClient(server.Endpoint, cache: new Mlsae.Hub.HubCache(Fixtures.TempDir()), offline: false);
        var resolved = MlsaeCheckpoint.Resolve("tim-lawson/mlsae-fixture-x4-k6", "main", () => hub);
        using var loaded = MlsaeCheckpoint.Load(resolved, new SparseCoderSettings { DeadTokensThreshold = 10 });
        Assert.Equal(192, loaded.Autoencoder.Config.NLatents);
        Assert.Contains("--sae", Assert.Throws<MlsaeException>(() => MlsaeCheckpoint.Resolve("not a repo!", "main", () => hub)).Message);
    }
}

public class ReferenceRepoNameTests
{
    [Theory]
    [InlineData("tim-lawson/mlsae-pythia-70m-deduped-x64-k32", "EleutherAI/pythia-70m-deduped")]
    [InlineData("tim-lawson/mlsae-pythia-1b-deduped-x16-k32", "EleutherAI/pythia-1b-deduped")]
    [InlineData("tim-lawson/mlsae-pythia-160m-deduped-x64-k32-lens", "EleutherAI/pythia-160m-deduped")]
    [InlineData("someone/other-sae", null)]
    public void PublishedReferenceSaesNameTheirModel(string repo, string? model) =>
        Assert.Equal(model, Mlsae.Cli.Commands.SaeOptions.ReferenceModelName(repo));
}

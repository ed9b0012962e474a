using Mlsae.IO;
using Mlsae.Models;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Cli;

public class CreateModelCommandTests
{
    [Fact]
    public void WritesAnHfFolderThatLoadsAndRuns()
    {
        var dir = Path.Combine(Fixtures.TempDir(), "tiny");
        var r = CliRunner.Run("create-model", "--out", dir, "--layers", "2", "--d-model", "32", "--heads", "2", "--vocab", "40",
            "--storage-dtype", "bfloat16", "--seed", "7");
        Assert.True(r.ExitCode == 0, r.Error);
        var config = GptNeoXConfig.Load(Path.Combine(dir, "config.json"));
        Assert.Equal("bfloat16", config.TorchDtype);
        Assert.Equal(4, config.RotaryNdims);   // int(16 · 0.25)
        using var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(ScalarType.BFloat16, file.DType("gpt_neox.embed_in.weight"));
        using var scope = NewDisposeScope();
        using var model = GptNeoXLoader.Load(dir);
        using var output = model.Forward(randint(0, 40, [1, 5]));
        Assert.Equal(new long[] { 2, 1, 5, 32 }, output.HiddenStates.shape);
    }

    [Fact]
    public void TheShippedExampleModelIsReproducibleFromItsCommand()
    {
        var dir = Path.Combine(Fixtures.TempDir(), "tiny");
        var r = CliRunner.Run([.. ExampleModel.Arguments, "--out", dir]);
        Assert.True(r.ExitCode == 0, r.Error);
        var shipped = Path.Combine(Fixtures.RepoRoot, "examples", "tiny-gpt-neox");
        Assert.Equal(File.ReadAllText(Path.Combine(shipped, "config.json")), File.ReadAllText(Path.Combine(dir, "config.json")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(shipped, "model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
    }

    [Fact]
    public void InvalidShapesAreRejected()
    {
        var r = CliRunner.Run("create-model", "--out", Path.Combine(Fixtures.TempDir(), "x"), "--d-model", "30", "--heads", "4");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("hidden_size 30 is not divisible by num_attention_heads 4", r.Error);
    }
}

/// <summary>The command that made examples/tiny-gpt-neox (also in examples/README.md).</summary>
public static class ExampleModel
{
    public static readonly string[] Arguments =
        ["create-model", "--layers", "4", "--d-model", "64", "--heads", "4", "--vocab", "512", "--max-position-embeddings", "256",
         "--storage-dtype", "float16", "--seed", "0"];
}

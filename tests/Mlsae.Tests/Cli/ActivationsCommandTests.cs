using System.Text.Json;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Cli;

public class ActivationsCommandTests
{
    static string WriteTokens(Tensor tokens)
    {
        var path = Path.Combine(Fixtures.TempDir(), "in.jsonl");
        var rows = tokens.data<long>().ToArray().Chunk((int)tokens.shape[1]);
        File.WriteAllLines(path, rows.Select(r => JsonSerializer.Serialize(new { input_ids = r })));
        return path;
    }

    [Fact]
    public void ExportsHiddenStatesLogitsAndLossMatchingTransformers()
    {
        using var scope = NewDisposeScope();
        var expected = Fixtures.ReadAll(Fixtures.Path("gpt_neox", "modelC_expected.safetensors"));
        var input = WriteTokens(expected["tokens"]);
        var output = Path.Combine(Fixtures.TempDir(), "act.safetensors");
        var r = CliRunner.Run("activations", "--model", Fixtures.Path("gpt_neox", "modelC_bin"), "--input", input,
            "--out", output, "--logits", "--batch-size", "2");
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("hidden_states [2, 3, 17, 32]", r.Out);
        using var file = SafeTensorsFile.Open(output);
        Assert.Equal("0,1", file.Metadata["layers"]);
        Assert.Equal(ScalarType.Float32, file.DType("hidden_states"));
        Fixtures.AssertClose(expected["hidden_states"], file.Read("hidden_states"), 1e-4, 1e-4, "hidden_states");
        Fixtures.AssertClose(expected["logits"], file.Read("logits"), 1e-4, 1e-4, "logits");
        Fixtures.AssertClose(expected["loss"], file.Read("loss"), 1e-5, 0, "loss");
    }

    [Fact]
    public void ZeroesSpecialTokensUnlessAskedNotToAndSelectsLayers()
    {
        using var scope = NewDisposeScope();
        var expected = Fixtures.ReadAll(Fixtures.Path("gpt_neox", "modelC_expected.safetensors"));
        var input = WriteTokens(expected["special.tokens"]);
        var dir = Fixtures.TempDir();
        var model = Fixtures.Path("gpt_neox", "modelC");
        Assert.Equal(0, CliRunner.Run("activations", "--model", model, "--input", input, "--out", Path.Combine(dir, "m.safetensors")).ExitCode);
        Assert.Equal(0, CliRunner.Run("activations", "--model", model, "--input", input, "--out", Path.Combine(dir, "r.safetensors"),
            "--no-skip-special-tokens", "--layers", "1").ExitCode);
        using var masked = SafeTensorsFile.Open(Path.Combine(dir, "m.safetensors"));
        using var raw = SafeTensorsFile.Open(Path.Combine(dir, "r.safetensors"));
        Fixtures.AssertClose(expected["special.hidden_states_masked"], masked.Read("hidden_states"), 1e-4, 1e-4, "masked");
        Fixtures.AssertClose(expected["special.hidden_states_raw"][1..2], raw.Read("hidden_states"), 1e-4, 1e-4, "raw layer 1");
        Assert.Equal("1", raw.Metadata["layers"]);
    }

    [Fact]
    public void UnsupportedModelTypeIsAOneLineError()
    {
        var model = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(model, "config.json"), "{\"model_type\": \"llama\"}");
        var input = Path.Combine(Fixtures.TempDir(), "in.jsonl");
        File.WriteAllText(input, "{\"input_ids\": [1, 2, 3]}\n");
        var r = CliRunner.Run("activations", "--model", model, "--input", input, "--out", Path.Combine(Fixtures.TempDir(), "a.safetensors"));
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"{Path.Combine(model, "config.json")}: model_type 'llama' is not supported (supported: gpt_neox)", r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("{\"input_ids\": [1, 2, 3]}\n{\"input_ids\": [1, 2]}\n", "in.jsonl:2", "same length")]
    [InlineData("{\"input_ids\": [1, 2, 3]}\n{\"input_ids\": [1, 2\n", "in.jsonl:2", "malformed JSON")]
    [InlineData("{\"text\": \"hi\"}\n", "in.jsonl:1", "input_ids")]
    [InlineData("", "in.jsonl", "no sequences")]
    [InlineData("{\"input_ids\": [1, 2, 999]}\n", "token id 999", "vocab_size 67")]
    public void BadInputIsAOneLineErrorAndWritesNothing(string content, string mention1, string mention2)
    {
        var dir = Fixtures.TempDir();
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, content);
        var output = Path.Combine(dir, "out.safetensors");
        var r = CliRunner.Run("activations", "--model", Fixtures.Path("gpt_neox", "modelC"), "--input", input, "--out", output);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.Error);
        Assert.Contains(mention1, r.Error);
        Assert.Contains(mention2, r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.False(File.Exists(output));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Theory]
    [InlineData("--layers", "0,7", "--layers: layer 7 out of range")]
    [InlineData("--dtype", "float8", "--dtype: unknown dtype 'float8'")]
    [InlineData("--device", "cuda", "--device: 'cuda' requested but CUDA is not available")]
    public void BadFlagsAreOneLineErrors(string flag, string value, string message)
    {
        var dir = Fixtures.TempDir();
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"input_ids\": [1, 2, 3]}\n");
        var r = CliRunner.Run("activations", "--model", Fixtures.Path("gpt_neox", "modelC"), "--input", input,
            "--out", Path.Combine(dir, "o.safetensors"), flag, value);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.False(File.Exists(Path.Combine(dir, "o.safetensors")));
    }

    [Fact]
    public void CorruptWeightsAreOneLineErrors()
    {
        var dir = Fixtures.TempDir();
        File.Copy(Fixtures.Path("gpt_neox", "modelB", "config.json"), Path.Combine(dir, "config.json"));
        var bytes = File.ReadAllBytes(Fixtures.Path("gpt_neox", "modelB", "model.safetensors"));
        File.WriteAllBytes(Path.Combine(dir, "model.safetensors"), bytes[..(bytes.Length / 2)]);
        var input = Path.Combine(dir, "in.jsonl");
        File.WriteAllText(input, "{\"input_ids\": [1, 2, 3]}\n");
        var r = CliRunner.Run("activations", "--model", dir, "--input", input, "--out", Path.Combine(dir, "o.safetensors"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("model.safetensors: tensor '", r.Error);
        Assert.DoesNotContain("   at ", r.Error);
    }
}

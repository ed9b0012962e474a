using System.Text.Json;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Cli;

public class ActivationsFromTextTests
{
    static string Model()
    {
        var dir = Path.Combine(Fixtures.TempDir(), "model");
        var r = CliRunner.Run("create-model", "--out", dir, "--layers", "2", "--d-model", "32", "--heads", "4", "--vocab", "1024", "--seed", "3");
        Assert.True(r.ExitCode == 0, r.Error);
        return dir;
    }

    [Fact]
    public void DataAndTextGoThroughTheSamePackingAsTheDataCommand()
    {
        using var scope = NewDisposeScope();
        var model = Model();
        var tokenizer = Fixtures.Path("tokenizer");
        var dir = Fixtures.TempDir();
        var docs = Path.Combine(dir, "docs.jsonl");
        var texts = JsonDocument.Parse(File.ReadAllText(Fixtures.Path("tokenizer", "pipeline_cases.json"))).RootElement
            .GetProperty("documents").EnumerateArray().Select(d => JsonSerializer.Serialize(new { text = d.GetString() }));
        File.WriteAllLines(docs, texts);

        var seqs = Path.Combine(dir, "seqs.jsonl");
        Assert.Equal(0, CliRunner.Run("data", "--data", docs, "--tokenizer", tokenizer, "--max-length", "16", "--limit", "3", "--out", seqs).ExitCode);
        var fromIds = Path.Combine(dir, "ids.safetensors");
        var fromData = Path.Combine(dir, "data.safetensors");
        Assert.Equal(0, CliRunner.Run("activations", "--model", model, "--input", seqs, "--out", fromIds).ExitCode);
        var r = CliRunner.Run("activations", "--model", model, "--data", docs, "--tokenizer", tokenizer, "--max-length", "16", "--limit", "3", "--out", fromData);
        Assert.True(r.ExitCode == 0, r.Error);
        using (var a = SafeTensorsFile.Open(fromIds))
        using (var b = SafeTensorsFile.Open(fromData))
        {
            Assert.Equal([2L, 3, 16, 32], b.Read("hidden_states").shape);
            Fixtures.AssertClose(a.Read("hidden_states"), b.Read("hidden_states"), 0, 0, "same sequences, same activations");
        }

        var fromText = Path.Combine(dir, "text.safetensors");
        r = CliRunner.Run("activations", "--model", model, "--text", "The cat sat on the mat.", "--tokenizer", tokenizer, "--out", fromText);
        Assert.True(r.ExitCode == 0, r.Error);
        int tokens = Mlsae.Tokenization.Tokenizer.Load(tokenizer).Encode("The cat sat on the mat.").Count;
        using (var c = SafeTensorsFile.Open(fromText))
            Assert.Equal([2L, 1, tokens, 32], c.Read("hidden_states").shape);
    }

    [Fact]
    public void AtMostOneInputIsAllowed()
    {
        var r = CliRunner.Run("activations", "--model", Fixtures.Path("gpt_neox", "modelC"), "--text", "a", "--data", "embedded", "--out", Path.Combine(Fixtures.TempDir(), "x.safetensors"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("at most one of --input, --text and --data", r.Error);
    }
}

using Mlsae.IO;
using Mlsae.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Models;

public class NonFiniteWeightsTests
{
    [Fact]
    public void ANaNWeightIsAnErrorNamingTheTensorUnlessAllowed()
    {
        var dir = Path.Combine(Fixtures.TempDir(), "model");
        Assert.Equal(0, CliRunner.Run("create-model", "--out", dir, "--layers", "1", "--d-model", "16", "--heads", "2", "--vocab", "64").ExitCode);
        var path = Path.Combine(dir, "model.safetensors");
        Dictionary<string, Tensor> tensors;
        using (var file = SafeTensorsFile.Open(path)) tensors = file.Names.ToDictionary(n => n, file.Read);
        tensors["gpt_neox.layers.0.mlp.dense_h_to_4h.weight"][0, 3] = float.NaN;
        tensors["gpt_neox.layers.0.mlp.dense_h_to_4h.weight"][1, 2] = float.PositiveInfinity;
        SafeTensorsWriter.Write(path, tensors);
        var ids = Path.Combine(dir, "ids.jsonl");
        File.WriteAllText(ids, "{\"input_ids\": [1, 2, 3, 4]}\n");
        var output = Path.Combine(dir, "acts.safetensors");

        var r = CliRunner.Run("activations", "--model", dir, "--input", ids, "--out", output);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("tensor 'gpt_neox.layers.0.mlp.dense_h_to_4h.weight' has 2 non-finite values (pass --allow-non-finite-weights", r.Error);
        Assert.False(File.Exists(output));
        var allowed = CliRunner.Run("activations", "--model", dir, "--input", ids, "--out", output, "--allow-non-finite-weights");
        Assert.True(allowed.ExitCode == 0, allowed.Error);
    }
}

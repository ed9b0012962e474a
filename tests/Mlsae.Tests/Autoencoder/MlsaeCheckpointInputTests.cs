using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

/// <summary>Edited or hostile SAE checkpoints are one-line errors naming the file, never a wrong SAE or a trace.</summary>
public class MlsaeCheckpointInputTests
{
    static string Checkpoint()
    {
        var dir = Fixtures.TempDir();
        var config = new MlsaeConfig { NInputs = 8, NLatents = 16, K = 2, AuxK = 4, DeadStepsThreshold = 10 };
        using var sae = MlsaeAutoencoder.Create(config, new SparseCoderSettings(), seed: 0);
        MlsaeCheckpoint.Save(sae, dir);
        return dir;
    }

    static string Error(string dir) => Assert.Throws<MlsaeException>(() => MlsaeCheckpoint.Load(dir, new SparseCoderSettings()).Dispose()).Message;

    [Fact]
    public void AConfigThatIsNotAnObjectIsAnError()
    {
        var dir = Checkpoint();
        File.WriteAllText(Path.Combine(dir, "config.json"), "[1, 2]");
        Assert.Contains("config.json: expected a JSON object", Error(dir));
    }

    [Theory]
    [InlineData("\"batch_size\": 0", "\"batch_size\" must be a positive integer, got 0")]
    [InlineData("\"model_name\": 70", "\"model_name\" must be a string, got 70")]
    [InlineData("\"layers\": \"0,1\"", "\"layers\" must be a list of layer indices, got \"0,1\"")]
    public void BadTransformerArgumentsAreErrorsNamingTheField(string field, string message)
    {
        var dir = Checkpoint();
        using (var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors")))
        {
            var tensors = file.Names.ToDictionary(n => "autoencoder." + n, file.Read);
            SafeTensorsWriter.Write(Path.Combine(dir, "tfm.safetensors"), tensors);
        }
        File.Move(Path.Combine(dir, "tfm.safetensors"), Path.Combine(dir, "model.safetensors"), overwrite: true);
        var name = field.StartsWith("\"model_name\"") ? "" : "\"model_name\": \"EleutherAI/pythia-70m\", ";
        File.WriteAllText(Path.Combine(dir, "config.json"), $"{{{name}\"k\": 2, \"auxk\": 4, {field}}}");
        Assert.Contains(message, Error(dir));
    }

    [Fact]
    public void IntegerWeightsAreRefusedNotCast()
    {
        var dir = Checkpoint();
        var path = Path.Combine(dir, "model.safetensors");
        Dictionary<string, Tensor> tensors;
        using (var file = SafeTensorsFile.Open(path)) tensors = file.Names.ToDictionary(n => n, file.Read);
        tensors["encoder.weight"] = (tensors["encoder.weight"] * 1e3).to(ScalarType.Int32);
        SafeTensorsWriter.Write(path, tensors);
        Assert.Contains("tensor 'encoder.weight' is Int32, not a floating-point weight", Error(dir));
    }
}

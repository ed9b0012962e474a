using Mlsae.IO;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.IO;

public class WeightChecksTests
{
    static string Checkpoint(Dictionary<string, Tensor> tensors)
    {
        var path = Path.Combine(Fixtures.TempDir(), "model.safetensors");
        SafeTensorsWriter.Write(path, tensors);
        return path;
    }

    [Fact]
    public void ReadFloatRefusesIntegerAndBoolTensorsNamingTheDType()
    {
        using var scope = NewDisposeScope();
        var path = Checkpoint(new()
        {
            ["encoder.weight"] = ones(4, 3, dtype: ScalarType.Int32),
            ["mask"] = ones(3, dtype: ScalarType.Bool),
            ["decoder.weight"] = ones(3, 4, dtype: ScalarType.BFloat16),
        });
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<MlsaeException>(() => file.ReadFloat("encoder.weight"));
        Assert.Equal($"{path}: tensor 'encoder.weight' has dtype I32 (Int32); weights must be floating-point (F16, BF16, F32 or F64)", e.Message);
        Assert.Contains("BOOL", Assert.Throws<MlsaeException>(() => file.ReadFloat("mask")).Message);
        Assert.Equal(ScalarType.BFloat16, file.ReadFloat("decoder.weight").dtype);
        Assert.Contains("no tensor named 'missing'", Assert.Throws<MlsaeException>(() => file.ReadFloat("missing")).Message);
    }

    [Fact]
    public void ReadFloatWorksOnPickleCheckpoints()
    {
        using var scope = NewDisposeScope();
        var pickle = PickleBuilder.StateDict(new TensorSpec("w", "0", 2, 0, [2], [1], "LongStorage"));
        var path = TestZips.TorchZip(pickle, new Dictionary<string, byte[]> { ["0"] = new byte[16] });
        using var ckpt = TorchCheckpoint.Open(path);
        Assert.Contains("tensor 'w' has dtype I64", Assert.Throws<MlsaeException>(() => ckpt.ReadFloat("w")).Message);
    }

    [Fact]
    public void CheckFiniteCountsNaNAndInfinities()
    {
        using var scope = NewDisposeScope();
        var t = tensor(new float[] { 1, float.NaN, float.PositiveInfinity, -2, float.NegativeInfinity });
        Assert.Equal(3, WeightChecks.CountNonFinite(t));
        Assert.Equal(2, WeightChecks.CountNonFinite(t.to(ScalarType.Float16)[1..3]));
        Assert.Equal(0, WeightChecks.CountNonFinite(ones(3, dtype: ScalarType.Int64)));
        Assert.Equal(0, WeightChecks.CountNonFinite(zeros(0)));
        var e = Assert.Throws<MlsaeException>(() => WeightChecks.CheckFinite("w.safetensors", "encoder.weight", t));
        Assert.Equal("w.safetensors: tensor 'encoder.weight' has 3 non-finite values", e.Message);
        WeightChecks.CheckFinite("w.safetensors", "ok", ones(2, 2));
    }

    [Fact]
    public void CheckFiniteOnASourceNamesItsFile()
    {
        using var scope = NewDisposeScope();
        var path = Checkpoint(new() { ["b"] = tensor(new double[] { double.NaN, 0 }) });
        using var file = SafeTensorsFile.Open(path);
        var b = file.ReadFloat("b");
        Assert.Equal($"{path}: tensor 'b' has 1 non-finite values", Assert.Throws<MlsaeException>(() => file.CheckFinite("b", b)).Message);
    }
}

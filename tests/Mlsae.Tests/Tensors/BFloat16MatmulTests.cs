using Mlsae.Autoencoder;
using TorchSharp;
using Mlsae.Tensors;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Tensors;

/// <summary>Widened bfloat16 matmuls (bfloat16 operands, float32 products) against libtorch's own bfloat16 kernels.</summary>
public class BFloat16MatmulTests
{
    [Fact]
    public void WidenedLinearIsTheFloat32ProductOfTheBFloat16OperandsRoundedOnce()
    {
        using var scope = NewDisposeScope();
        using var layer = nn.Linear(96, 80);
        layer.to(ScalarType.BFloat16);
        var x = randn([3, 17, 96], generator: new Generator(4)).to(ScalarType.BFloat16);   // [B, T, in]
        var widened = BFloat16Matmul.Linear(layer, x, widen: true);
        Assert.Equal(ScalarType.BFloat16, widened.dtype);
        var expected = nn.functional.linear(x.to(ScalarType.Float32), layer.weight!.to(ScalarType.Float32), layer.bias!.to(ScalarType.Float32)).to(ScalarType.BFloat16);
        Assert.True(widened.eq(expected).all().item<bool>(), "widened linear is not the rounded float32 product");
        // libtorch's bfloat16 kernel accumulates in float32 too but may round the product before adding
        // the bias: the two differ by at most two roundings (2⁻⁸ each, of a value no larger than
        // Σ|x||W| + |b|) plus float32 summation noise.
        var native = BFloat16Matmul.Linear(layer, x, widen: false).to(ScalarType.Float32);
        var wide = widened.to(ScalarType.Float32);
        var scale = x.to(ScalarType.Float32).abs().matmul(layer.weight!.to(ScalarType.Float32).abs().t()) + layer.bias!.to(ScalarType.Float32).abs();
        var excess = ((wide - native).abs() - scale * (Math.Pow(2, -7) + 1e-6)).max().item<float>();
        Assert.True(excess <= 0, $"widened and native bfloat16 linear differ beyond one bfloat16 rounding (by {excess:g4})");
        // float32 tensors pass through untouched.
        var f = randn([2, 96]);
        layer.to(ScalarType.Float32);
        Assert.True(BFloat16Matmul.Linear(layer, f, widen: true).eq(layer.forward(f)).all().item<bool>());
    }

    [Fact]
    public void TheChoiceFollowsTheCpuUnlessTheVariableSaysOtherwise()
    {
        Assert.True(CpuFeatures.WidenFor(false, null));
        Assert.False(CpuFeatures.WidenFor(true, null));
        Assert.False(CpuFeatures.WidenFor(null, ""));
        Assert.True(CpuFeatures.WidenFor(true, "widened"));
        Assert.False(CpuFeatures.WidenFor(false, " Native "));
        var e = Assert.Throws<MlsaeException>(() => CpuFeatures.WidenFor(false, "fast"));
        Assert.Contains(CpuFeatures.MatmulVariable, e.Message);
        Assert.Contains("widened", CpuFeatures.BFloat16Notice(false, widened: true));
        Assert.Contains("slower than float32", CpuFeatures.BFloat16Notice(false, widened: false));
    }

    [Fact]
    public void WidenedAndNativeEncoderPassesAgreeExceptNearTies()
    {
        using var scope = NewDisposeScope();
        const int n = 512, d = 64, f = 1024, k = 16;
        var u = randn([n, d], generator: new Generator(11));
        var w = randn([f, d], generator: new Generator(12)) / Math.Sqrt(d);
        var dead = (arange(f) % 3).eq(0);
        var wide = EncoderPass.Run(u, w, k, 32, dead, ScalarType.BFloat16, 128, cpuKernels: true, widen: true);
        var native = EncoderPass.Run(u, w, k, 32, dead, ScalarType.BFloat16, 128, cpuKernels: true, widen: false);
        // TopK values are float32 re-scores either way: where the selections agree they are equal.
        var same = wide.Indices.sort(1).Values.eq(native.Indices.sort(1).Values).all(1);        // [N]
        Assert.True(same.to(ScalarType.Float32).mean().item<float>() > 0.9, "widened and native TopK differ in more than a tenth of the rows");
        Fixtures.AssertClose(wide.Values.sort(1).Values[same], native.Values.sort(1).Values[same], 1e-6, 1e-6, "topk values");
        // AuxK values: widened keeps the product unrounded, native rounds it to bfloat16 (2⁻⁸ relative).
        Fixtures.AssertClose(wide.AuxValues!.sort(1, descending: true).Values, native.AuxValues!.sort(1, descending: true).Values, 0.02, 0.02, "auxk values");
    }
}

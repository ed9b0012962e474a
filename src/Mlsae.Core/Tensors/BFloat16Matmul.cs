using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Tensors;

/// <summary>
/// Matmuls of bfloat16 tensors on a CPU, widened where <see cref="CpuFeatures.WidenBFloat16"/> says
/// so: the operands (bfloat16 values) converted to float32, multiplied, and the result rounded back to
/// bfloat16 — what a native bfloat16 GEMM computes (float32 accumulation, one rounding of the output),
/// up to summation order. Everything else passes through unchanged.
/// </summary>
public static class BFloat16Matmul
{
    /// <summary>How <paramref name="dtype"/>'s CPU matmuls run, as the benches report it: <c>widened</c>
    /// or <c>native</c> for bfloat16, null for any other dtype.</summary>
    public static string? PathFor(ScalarType dtype) =>
        dtype == ScalarType.BFloat16 ? (CpuFeatures.WidenBFloat16 ? "widened" : "native") : null;

    /// <summary>Whether a tensor's matmuls are widened here.</summary>
    public static bool Widens(Tensor x) => Widens(x, CpuFeatures.WidenBFloat16);

    internal static bool Widens(Tensor x, bool widen) =>
        widen && x.dtype == ScalarType.BFloat16 && x.device_type == TorchSharp.DeviceType.CPU;

    /// <summary><paramref name="layer"/>'s forward on <paramref name="x"/>. // [..., in] → [..., out]</summary>
    public static Tensor Linear(Linear layer, Tensor x) => Linear(layer, x, CpuFeatures.WidenBFloat16);

    internal static Tensor Linear(Linear layer, Tensor x, bool widen)
    {
        if (!Widens(x, widen)) return layer.forward(x);
        CpuFeatures.NoteBFloat16OnCpu();
        using var scope = NewDisposeScope();
        using var weight = layer.weight!.to(ScalarType.Float32);
        using var bias = layer.bias?.to(ScalarType.Float32);
        using var wide = x.to(ScalarType.Float32);
        return nn.functional.linear(wide, weight, bias).to(ScalarType.BFloat16).MoveToOuterDisposeScope();
    }
}

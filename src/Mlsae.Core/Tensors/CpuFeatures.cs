using System.Runtime.InteropServices;

namespace Mlsae.Tensors;

/// <summary>What the CPU offers the half-precision paths.</summary>
public static class CpuFeatures
{
    static readonly Lazy<bool?> nativeBFloat16 = new(() => ReadNativeBFloat16("/proc/cpuinfo"));
    static int noticed;

    /// <summary>
    /// Whether this CPU has native bfloat16 dot products (x86 <c>avx512_bf16</c> or <c>amx_bf16</c>, read
    /// from <c>/proc/cpuinfo</c>); null where that cannot be told (another OS or architecture). Without
    /// them libtorch still computes in bfloat16 by converting, several times slower than float32.
    /// </summary>
    public static bool? NativeBFloat16 => nativeBFloat16.Value;

    /// <summary>Reads the x86 flags line of a cpuinfo file; null when the file or its flags are missing.</summary>
    internal static bool? ReadNativeBFloat16(string cpuinfo)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.X86)) return null;
        try
        {
            foreach (var line in File.ReadLines(cpuinfo))
            {
                if (!line.StartsWith("flags", StringComparison.Ordinal)) continue;
                var flags = line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return flags.Contains("avx512_bf16") || flags.Contains("amx_bf16");
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>The environment variable that picks how bfloat16 matmuls run on the CPU: <c>widened</c>
    /// or <c>native</c> (libtorch's own bfloat16 kernels); unset: widened exactly when the CPU has no
    /// native bfloat16 dot products.</summary>
    public const string MatmulVariable = "MLSAE_BFLOAT16_MATMUL";

    static readonly Lazy<bool> widen = new(() => WidenFor(NativeBFloat16, Environment.GetEnvironmentVariable(MatmulVariable)));

    /// <summary>
    /// Whether CPU bfloat16 matmuls run widened: the bfloat16 operands multiplied in float32, as
    /// native bfloat16 dot-product instructions do (they accumulate in float32), instead of libtorch's
    /// conversion path, which is several times slower than float32 where those instructions are
    /// missing. Same values up to summation order; the operands keep bfloat16 rounding.
    /// </summary>
    public static bool WidenBFloat16 => widen.Value;

    /// <summary>The rule behind <see cref="WidenBFloat16"/> for a CPU and the variable's value.</summary>
    internal static bool WidenFor(bool? native, string? variable) => variable?.Trim().ToLowerInvariant() switch
    {
        "widened" => true,
        "native" => false,
        null or "" => native == false,
        _ => throw new MlsaeException($"{MatmulVariable}: '{variable}' is not one of widened, native"),
    };

    /// <summary>The one line said when bfloat16 compute runs on a CPU without native bfloat16 dot
    /// products (null when they are there, or when it cannot be told).</summary>
    public static string? BFloat16Notice(bool? native, bool widened = true) => native == false
        ? widened
            ? "note: this CPU has no native bfloat16 dot products (avx512_bf16/amx_bf16); bfloat16 matmuls run widened "
              + "(bfloat16 operands, float32 products) at about float32 speed, with no speed gain over --dtype float32"
            : "note: this CPU has no native bfloat16 dot products (avx512_bf16/amx_bf16); --dtype bfloat16 still works, but slower than float32"
        : null;

    /// <summary>Writes <see cref="BFloat16Notice"/> to stderr, once per process, the first time a bfloat16
    /// CPU computation asks (the encoder and the transformer both do).</summary>
    public static void NoteBFloat16OnCpu()
    {
        if (BFloat16Notice(NativeBFloat16, WidenBFloat16) is not string line || Interlocked.Exchange(ref noticed, 1) != 0) return;
        Console.Error.WriteLine(line);
    }
}

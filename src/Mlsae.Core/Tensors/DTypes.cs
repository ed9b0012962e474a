using TorchSharp;

namespace Mlsae.Tensors;

/// <summary>The dtype names used on every command line (<c>--dtype</c>) and in configs.</summary>
public static class DTypes
{
    /// <summary>The accepted <c>--dtype</c> names.</summary>
    public static readonly IReadOnlyList<string> Names = ["float32", "bfloat16", "float16"];

    /// <summary>Parses a compute dtype name (<c>float32</c>, <c>bfloat16</c>, <c>float16</c>).</summary>
    public static torch.ScalarType Parse(string name) => name switch
    {
        "float32" or "fp32" => torch.ScalarType.Float32,
        "bfloat16" or "bf16" => torch.ScalarType.BFloat16,
        "float16" or "fp16" => torch.ScalarType.Float16,
        _ => throw new MlsaeException($"--dtype: unknown dtype '{name}' (expected one of {string.Join(", ", Names)})"),
    };

    /// <summary>The name of a compute dtype as <see cref="Parse"/> accepts it.</summary>
    public static string Name(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => "float32",
        torch.ScalarType.BFloat16 => "bfloat16",
        torch.ScalarType.Float16 => "float16",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses a device name (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>) and checks it is usable.</summary>
    public static torch.Device ParseDevice(string name)
    {
        if (name.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new MlsaeException(
                $"--device: '{name}' requested but CUDA is not available (build with -p:MlsaeTorchBackend=cuda on a machine with an NVIDIA GPU)");
        torch.Device device;
        try { device = torch.device(name); }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new MlsaeException($"--device: unknown device '{name}' (expected cpu or cuda[:N])");
        }
        return device;
    }
}

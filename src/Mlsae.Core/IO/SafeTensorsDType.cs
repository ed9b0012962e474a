using TorchSharp;

namespace Mlsae.IO;

/// <summary>The safetensors dtype codes this project reads and writes, and their torch equivalents.</summary>
public static class SafeTensorsDType
{
    static readonly Dictionary<string, (torch.ScalarType Type, int Size)> ByCode = new()
    {
        ["F64"] = (torch.ScalarType.Float64, 8),
        ["F32"] = (torch.ScalarType.Float32, 4),
        ["F16"] = (torch.ScalarType.Float16, 2),
        ["BF16"] = (torch.ScalarType.BFloat16, 2),
        ["I64"] = (torch.ScalarType.Int64, 8),
        ["I32"] = (torch.ScalarType.Int32, 4),
        ["I16"] = (torch.ScalarType.Int16, 2),
        ["I8"] = (torch.ScalarType.Int8, 1),
        ["U8"] = (torch.ScalarType.Byte, 1),
        ["BOOL"] = (torch.ScalarType.Bool, 1),
    };

    /// <summary>Looks up a code such as <c>BF16</c>; false if unknown.</summary>
    public static bool TryParse(string code, out torch.ScalarType type, out int size)
    {
        if (ByCode.TryGetValue(code, out var entry)) { (type, size) = entry; return true; }
        type = default; size = 0;
        return false;
    }

    /// <summary>The safetensors code for a torch dtype.</summary>
    public static string Code(torch.ScalarType type) =>
        ByCode.FirstOrDefault(kv => kv.Value.Type == type).Key
        ?? throw new MlsaeException($"dtype {type} cannot be stored in safetensors by this project");

    /// <summary>Bytes per element of a torch dtype.</summary>
    public static int ElementSize(torch.ScalarType type) => ByCode[Code(type)].Size;
}

using System.Runtime.InteropServices;
using Mlsae.Tensors;
using Xunit;

namespace Mlsae.Tests.Tensors;

public class CpuFeaturesTests
{
    [Fact]
    public void NativeBFloat16IsReadFromTheFlagsLine()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        var dir = Fixtures.TempDir();
        string Write(string name, string text)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, text);
            return path;
        }
        Assert.True(CpuFeatures.ReadNativeBFloat16(Write("a", "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile\n")));
        Assert.True(CpuFeatures.ReadNativeBFloat16(Write("b", "flags\t\t: fpu amx_bf16\n")));
        Assert.False(CpuFeatures.ReadNativeBFloat16(Write("c", "flags\t\t: fpu avx2 avx512f avx512_bf16x\n")));
        Assert.Null(CpuFeatures.ReadNativeBFloat16(Write("d", "processor\t: 0\n")));
        Assert.Null(CpuFeatures.ReadNativeBFloat16(Path.Combine(dir, "missing")));
        Assert.Contains("no native bfloat16", CpuFeatures.BFloat16Notice(false));
        Assert.Null(CpuFeatures.BFloat16Notice(true));
        Assert.Null(CpuFeatures.BFloat16Notice(null));
    }
}

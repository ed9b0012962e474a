using System.Runtime.InteropServices;

namespace Mlsae.Tensors;

/// <summary>
/// The C heap libtorch allocates CPU tensors from. glibc keeps what a training step frees for reuse,
/// but a step's many 1–16 MiB tensors (<c>[N, D]</c> activations, their gradients, AuxK slots),
/// allocated at 64-byte alignment between longer-lived small blocks, fragment it: measured at x64
/// (D 512, N 4096), the resident set grew by 100–150 MiB per step for several steps while the live
/// tensors stayed the same. <see cref="Trim"/> at the end of a step gives the free pages back, so
/// each step starts from its live set. Elsewhere than glibc it does nothing.
/// </summary>
public static partial class NativeHeap
{
    static bool unavailable = !OperatingSystem.IsLinux();

    /// <summary>Returns the heap's free pages to the operating system (glibc <c>malloc_trim(0)</c>).</summary>
    public static void Trim()
    {
        if (unavailable) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;   // e.g. musl: no malloc_trim
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}

using System.Runtime.InteropServices;

namespace Mlsae.Tensors;

/// <summary>
/// The C heap libtorch allocates CPU tensors from. glibc keeps what a training step frees for reuse,
/// but a step's many 1–16 MiB tensors (<c>[N, D]</c> activations, their gradients, AuxK slots),
/// allocated at 64-byte alignment between longer-lived small blocks, fragment it: measured at x64
/// (D 512, N 4096), the resident set grew by 100–150 MiB per step for several steps while the live
/// tensors stayed the same. <see cref="TrimWithinBudget"/> at the end of a step gives the free pages
/// back when that is cheap next to the step, so each large step starts from its live set.
/// Elsewhere than glibc it does nothing.
/// </summary>
public static partial class NativeHeap
{
    /// <summary>What giving back one free MiB costs, ms: the trim itself and faulting the pages in
    /// again when the next step reuses them. Measured on the embedded default, which held ~200 MiB free
    /// after each of its 1,465 short steps: trimming after every one made the run 120 s longer
    /// (0.4 ms/MiB), a quarter of its time.</summary>
    public const double MsPerFreeMiB = 0.4;

    /// <summary>The share of a step that trimming may cost.</summary>
    public const double StepBudget = 0.05;

    static bool unavailable = !OperatingSystem.IsLinux();

    /// <summary>Bytes the heap holds free (glibc <c>mallinfo2().fordblks</c>, over all arenas); null where unknown.</summary>
    public static long? FreeBytes()
    {
        if (unavailable) return null;
        try
        {
            return (long)MallInfo2().FreeBytes;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;   // not glibc 2.33+ (e.g. musl)
            return null;
        }
    }

    /// <summary>Whether freeing <paramref name="freeBytes"/> costs (<see cref="MsPerFreeMiB"/>) within
    /// <see cref="StepBudget"/> of a step that took <paramref name="step"/>.</summary>
    public static bool WithinBudget(long freeBytes, TimeSpan step) =>
        freeBytes / 1048576.0 * MsPerFreeMiB <= StepBudget * step.TotalMilliseconds;

    /// <summary>Returns the heap's free pages to the operating system (glibc <c>malloc_trim(0)</c>)
    /// when that is <see cref="WithinBudget"/> of <paramref name="step"/>, the time the step took; true
    /// when it trimmed. Long steps of a large coder trim every time; the many short steps of a small
    /// model never do.</summary>
    public static bool TrimWithinBudget(TimeSpan step) => FreeBytes() is long free && WithinBudget(free, step) && Trim();

    /// <summary>Returns the heap's free pages to the operating system now; false where there is no glibc.</summary>
    public static bool Trim()
    {
        if (unavailable) return false;
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            unavailable = true;
            return false;
        }
    }

    /// <summary>glibc's <c>struct mallinfo2</c>: ten <c>size_t</c> fields.</summary>
    [StructLayout(LayoutKind.Sequential)]
    struct MallInfo
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FreeBytes, KeepCost;
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo MallInfo2();

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}

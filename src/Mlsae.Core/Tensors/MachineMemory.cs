namespace Mlsae.Tensors;

/// <summary>The memory this process may use, against which model and SAE sizes are checked before allocating.</summary>
public static class MachineMemory
{
    /// <summary>
    /// <c>GC.GetGCMemoryInfo().TotalAvailableMemoryBytes</c>: the machine's physical memory, or the
    /// container's limit or <c>GCHeapHardLimit</c> when one is set. It is not the memory free right now,
    /// so a check against it refuses what can never fit on this machine, not what would merely
    /// compete with other processes.
    /// </summary>
    public static long AvailableBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}

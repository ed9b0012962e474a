using System.Runtime.InteropServices;

namespace Mlsae.Distributed;

/// <summary>The few libc calls the MPI layer needs: the process environment as native code sees it,
/// the machine's online processors, and <c>dlopen</c> with <c>RTLD_GLOBAL</c>.</summary>
internal static partial class LibC
{
    const string Library = "libc.so.6";

    [LibraryImport(Library, EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport(Library, EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetEnv(string name);

    [LibraryImport(Library, EntryPoint = "sysconf")]
    private static partial long SysConf(int name);

    [LibraryImport(Library, EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string file, int mode);

    [LibraryImport(Library, EntryPoint = "dlerror")]
    private static partial nint DlError();

    const int ScNProcessorsOnline = 84;   // glibc's _SC_NPROCESSORS_ONLN
    const int RtldNow = 0x2, RtldGlobal = 0x100;

    /// <summary>Sets <paramref name="name"/> in the C environment unless it is set already.
    /// <see cref="Environment.SetEnvironmentVariable(string, string)"/> only changes .NET's copy,
    /// which native libraries never read.</summary>
    public static void SetDefault(string name, string value)
    {
        if (GetEnv(name) == 0) SetEnv(name, value, 0);
    }

    /// <summary>The processors online on this machine (not only those this process may run on).</summary>
    public static int OnlineProcessors() => SysConf(ScNProcessorsOnline) is var n and > 0 ? (int)n : Environment.ProcessorCount;

    /// <summary>Loads a shared library with its symbols global, as an MPI library's own plugins
    /// (OpenMPI's MCA components, loaded later with <c>dlopen</c>) expect to find them; null and the
    /// reason when it cannot be loaded.</summary>
    public static nint LoadGlobal(string file, out string? error)
    {
        var handle = DlOpen(file, RtldNow | RtldGlobal);
        error = handle == 0 ? Marshal.PtrToStringUTF8(DlError()) : null;
        return handle;
    }
}

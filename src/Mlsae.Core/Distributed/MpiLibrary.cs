using System.Runtime.InteropServices;

namespace Mlsae.Distributed;

/// <summary>
/// One loaded MPI library: its entry points as function pointers and its predefined handles,
/// bound without a C shim. Open MPI's handles are the addresses of exported globals; MPICH's are
/// 32-bit constants from its <c>mpi.h</c>. Every handle is passed as a pointer-sized integer: on
/// the LP64 ABIs (x86-64 System V, AArch64) an <c>int</c> argument travels in the low half of
/// the same register, so one signature serves both families.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    /// <summary>Libraries tried when the launch names no family: Open MPI's, then MPICH's
    /// (Debian's <c>libmpich.so.12</c>; <c>libmpi.so.12</c> is Intel MPI, MPICH's ABI).</summary>
    public static readonly string[] OpenMpiNames = ["libmpi.so.40", "libmpi.so"];
    /// <summary>MPICH-ABI library names, in the order tried.</summary>
    public static readonly string[] MpichNames = ["libmpich.so.12", "libmpi.so.12", "libmpich.so"];

    public string Path { get; }
    public MpiImplementation Implementation { get; }

    // Predefined handles.
    public nint CommWorld { get; }
    public nint InfoNull { get; }
    public nint ErrorsReturn { get; }
    public nint InPlace { get; }
    public int CommTypeShared { get; }
    readonly nint float32, float64, int64, int32, sum, max, min;

    // Entry points (MPI-3 C bindings; every one returns an MPI error code).
    public readonly delegate* unmanaged<int*, int> Initialized, Finalized;
    public readonly delegate* unmanaged<int*, nint, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int> FinalizeCall;
    public readonly delegate* unmanaged<nint, int*, int> CommRank, CommSize;
    public readonly delegate* unmanaged<nint, nint, int> CommSetErrhandler;
    public readonly delegate* unmanaged<nint, int, int, nint, nint*, int> CommSplitType;
    public readonly delegate* unmanaged<nint*, int> CommFree;
    public readonly delegate* unmanaged<int, byte*, int*, int> ErrorString;
    public readonly delegate* unmanaged<byte*, int*, int> LibraryVersion;
    public readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> Allreduce;
    public readonly delegate* unmanaged<nint, int, nint, int, nint, int> Bcast;
    public readonly delegate* unmanaged<nint, int> Barrier;
    public readonly delegate* unmanaged<nint, int, int> Abort;

    MpiLibrary(string path, nint handle)
    {
        Path = path;
        Implementation = NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out _) ? MpiImplementation.OpenMpi : MpiImplementation.Mpich;
        nint Export(string name) => NativeLibrary.TryGetExport(handle, name, out var address) ? address
            : throw new MpiException($"MPI library {path} has no {name}: not an MPI-3 library of a known family");
        if (Implementation == MpiImplementation.OpenMpi)
        {
            CommWorld = Export("ompi_mpi_comm_world");
            InfoNull = Export("ompi_mpi_info_null");
            ErrorsReturn = Export("ompi_mpi_errors_return");
            InPlace = 1;              // mpi.h: ((void *) 1)
            CommTypeShared = 0;       // first of mpi.h's enum
            (float32, float64, int64, int32) = (Export("ompi_mpi_float"), Export("ompi_mpi_double"), Export("ompi_mpi_int64_t"), Export("ompi_mpi_int"));
            (sum, max, min) = (Export("ompi_mpi_op_sum"), Export("ompi_mpi_op_max"), Export("ompi_mpi_op_min"));
        }
        else
        {
            // MPICH 4's mpi.h; the MPICH ABI initiative keeps these fixed across MPICH, Intel MPI, MVAPICH.
            CommWorld = 0x44000000;
            InfoNull = 0x1c000000;
            ErrorsReturn = 0x54000001;
            InPlace = -1;             // mpi.h: (void *) -1
            CommTypeShared = 1;
            (float32, float64, int64, int32) = (0x4c00040a, 0x4c00080b, 0x4c00083a, 0x4c000405);
            (sum, max, min) = (0x58000003, 0x58000001, 0x58000002);
        }
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        InitThread = (delegate* unmanaged<int*, nint, int, int*, int>)Export("MPI_Init_thread");
        FinalizeCall = (delegate* unmanaged<int>)Export("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        CommSetErrhandler = (delegate* unmanaged<nint, nint, int>)Export("MPI_Comm_set_errhandler");
        CommSplitType = (delegate* unmanaged<nint, int, int, nint, nint*, int>)Export("MPI_Comm_split_type");
        CommFree = (delegate* unmanaged<nint*, int>)Export("MPI_Comm_free");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export("MPI_Error_string");
        LibraryVersion = (delegate* unmanaged<byte*, int*, int>)Export("MPI_Get_library_version");
        Allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        Bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Export("MPI_Bcast");
        Barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        Abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
    }

    /// <summary>
    /// Loads the MPI library: <paramref name="path"/> when given (<c>MLSAE_MPI_LIBRARY</c>), else the
    /// first of the family's names that loads (both families' when <paramref name="family"/> is null).
    /// UCX, Open MPI's transport, would install a SIGSEGV handler that turns .NET's null-reference
    /// checks (a SIGSEGV the runtime catches) into crashes; <c>UCX_ERROR_SIGNALS=""</c> in the C
    /// environment before the library loads keeps it from doing so.
    /// </summary>
    public static MpiLibrary Load(string? path, MpiImplementation? family)
    {
        LibC.SetDefault("UCX_ERROR_SIGNALS", "");
        string[] names = path is not null ? [path]
            : family switch
            {
                MpiImplementation.OpenMpi => OpenMpiNames,
                MpiImplementation.Mpich => MpichNames,
                _ => [.. OpenMpiNames, .. MpichNames],
            };
        var errors = new List<string>();
        foreach (var name in names)
        {
            var handle = LibC.LoadGlobal(name, out var error);
            if (handle != 0) return new MpiLibrary(name, handle);
            errors.Add(error ?? name);
        }
        throw new MpiException($"no MPI library could be loaded ({string.Join("; ", errors)}); install openmpi-bin or mpich, or set MLSAE_MPI_LIBRARY to the library's path");
    }

    /// <summary>The datatype handle of <typeparamref name="T"/> (float, double, long or int).</summary>
    public nint DataType<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? float32
        : typeof(T) == typeof(double) ? float64
        : typeof(T) == typeof(long) ? int64
        : typeof(T) == typeof(int) ? int32
        : throw new ArgumentException($"no MPI datatype for {typeof(T).Name}");

    /// <summary>The handle of a reduction.</summary>
    public nint Op(MpiOp op) => op switch
    {
        MpiOp.Sum => sum,
        MpiOp.Max => max,
        MpiOp.Min => min,
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>The library's own text for an error code.</summary>
    public string Describe(int code)
    {
        var buffer = stackalloc byte[1024];   // MPI_MAX_ERROR_STRING: 256 (Open MPI), 512 (MPICH)
        int length = 0;
        return ErrorString(code, buffer, &length) == 0 ? System.Text.Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, 1023)).Trim() : $"MPI error {code}";
    }

    /// <summary>The name and version from <c>MPI_Get_library_version</c>: its first line up to the first
    /// comma, white space collapsed ("Open MPI v4.1.4", "MPICH Version: 4.0.2").</summary>
    public string Version()
    {
        var buffer = new byte[8192];           // MPI_MAX_LIBRARY_VERSION_STRING: 256 (Open MPI), 8192 (MPICH)
        int length = 0;
        fixed (byte* p = buffer)
            if (LibraryVersion(p, &length) != 0) return Implementation.ToString();
        var text = System.Text.Encoding.UTF8.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).TrimEnd('\0');
        var first = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()?.Split(',')[0];
        return string.IsNullOrWhiteSpace(first) ? Implementation.ToString() : string.Join(' ', first.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }
}

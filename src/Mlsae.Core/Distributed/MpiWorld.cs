using System.Diagnostics.CodeAnalysis;

namespace Mlsae.Distributed;

/// <summary>
/// <c>MPI_COMM_WORLD</c> of this process: initialized once (MPI allows one initialization per
/// process), with errors returned as <see cref="MpiException"/> instead of the library's default of
/// killing the job, so a failure can be reported in one line before <see cref="Abort"/> ends the job.
/// The collectives block until every rank calls them in the same order. Disposing finalizes MPI.
/// </summary>
public sealed unsafe class MpiWorld : IDisposable
{
    static readonly Lock Gate = new();
    static MpiWorld? opened;

    const int ThreadSerialized = 2;           // MPI_THREAD_SERIALIZED in both families' mpi.h
    const int MaxCount = 1 << 28;             // elements per call: MPI counts are C ints

    readonly MpiLibrary library;
    bool finalized;

    /// <summary>This process's rank.</summary>
    public int Rank { get; }
    /// <summary>The number of ranks.</summary>
    public int Size { get; }
    /// <summary>The ranks on this node (this one included): those that share its memory.</summary>
    public int LocalSize { get; }
    /// <summary>The MPI family of the loaded library.</summary>
    public MpiImplementation Implementation => library.Implementation;
    /// <summary>The library file that was loaded.</summary>
    public string LibraryPath => library.Path;
    /// <summary>The first line of the library's version string.</summary>
    public string Version { get; }

    MpiWorld(MpiLibrary library, MpiLaunch? launch)
    {
        this.library = library;
        int flag = 0, provided = 0;
        Check(library.Initialized(&flag), "MPI_Initialized");
        if (flag == 0) Check(library.InitThread(null, 0, ThreadSerialized, &provided), "MPI_Init_thread");
        Check(library.CommSetErrhandler(library.CommWorld, library.ErrorsReturn), "MPI_Comm_set_errhandler");
        int rank = 0, size = 0;
        Check(library.CommRank(library.CommWorld, &rank), "MPI_Comm_rank");
        Check(library.CommSize(library.CommWorld, &size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
        Version = library.Version();
        if (launch?.Size is int expected && expected != size)
        {
            Dispose();
            throw new MpiException($"{launch.Launcher} started {expected} processes but {library.Path} ({Version}) sees {size}: "
                + "the library is not the launcher's MPI (use the launcher of the same family, e.g. mpirun.openmpi with Open MPI, mpirun.mpich with MPICH, or set MLSAE_MPI_LIBRARY)");
        }
        LocalSize = CountLocalRanks();
    }

    /// <summary>
    /// The world of this process, initializing MPI on the first call: the library is
    /// <c>MLSAE_MPI_LIBRARY</c> when set, else the one of <paramref name="launch"/>'s family.
    /// A launch that started a different number of processes than MPI then sees is an error.
    /// </summary>
    public static MpiWorld Open(MpiLaunch? launch)
    {
        lock (Gate)
        {
            if (opened is { finalized: false }) return opened;
            if (opened is not null) throw new MpiException("MPI was finalized in this process and cannot be initialized again");
            var library = MpiLibrary.Load(Environment.GetEnvironmentVariable("MLSAE_MPI_LIBRARY"), launch?.Family);
            opened = new MpiWorld(library, launch);
            return opened;
        }
    }

    int CountLocalRanks()
    {
        nint local = 0;
        Check(library.CommSplitType(library.CommWorld, library.CommTypeShared, 0, library.InfoNull, &local), "MPI_Comm_split_type");
        int size = 0;
        Check(library.CommSize(local, &size), "MPI_Comm_size");
        Check(library.CommFree(&local), "MPI_Comm_free");
        return size;
    }

    /// <summary>Replaces <paramref name="values"/> on every rank with their reduction over all ranks
    /// (float, double, long or int).</summary>
    public void AllreduceInPlace<T>(Span<T> values, MpiOp op) where T : unmanaged
    {
        fixed (T* p = values) AllreduceInPlace(p, values.Length, op);
    }

    /// <summary>The reduction of one value over all ranks.</summary>
    public T Allreduce<T>(T value, MpiOp op) where T : unmanaged
    {
        AllreduceInPlace(new Span<T>(ref value), op);
        return value;
    }

    /// <summary>Reduces <paramref name="count"/> values at <paramref name="values"/> in place (a
    /// pinned buffer or a tensor's storage), in chunks that fit MPI's int counts.</summary>
    public void AllreduceInPlace<T>(T* values, long count, MpiOp op) where T : unmanaged
    {
        EnsureOpen();
        var type = library.DataType<T>();
        for (long done = 0; done < count; done += MaxCount)
        {
            int n = (int)Math.Min(MaxCount, count - done);
            Check(library.Allreduce(library.InPlace, (nint)(values + done), n, type, library.Op(op), library.CommWorld), "MPI_Allreduce");
        }
    }

    /// <summary>Replaces <paramref name="values"/> on every rank with rank <paramref name="root"/>'s.</summary>
    public void Broadcast<T>(Span<T> values, int root) where T : unmanaged
    {
        fixed (T* p = values) Broadcast(p, values.Length, root);
    }

    /// <summary>Broadcasts <paramref name="count"/> values at <paramref name="values"/> from <paramref name="root"/>.</summary>
    public void Broadcast<T>(T* values, long count, int root) where T : unmanaged
    {
        EnsureOpen();
        if (root < 0 || root >= Size) throw new ArgumentOutOfRangeException(nameof(root), $"root {root} is not a rank of a world of {Size}");
        var type = library.DataType<T>();
        for (long done = 0; done < count; done += MaxCount)
        {
            int n = (int)Math.Min(MaxCount, count - done);
            Check(library.Bcast((nint)(values + done), n, type, root, library.CommWorld), "MPI_Bcast");
        }
    }

    /// <summary>Waits until every rank has called it.</summary>
    public void Barrier()
    {
        EnsureOpen();
        Check(library.Barrier(library.CommWorld), "MPI_Barrier");
    }

    /// <summary>Ends every rank of the job with <paramref name="code"/> (MPI_Abort). Callers print
    /// their one line first; the console streams are flushed here so it is not lost.</summary>
    [DoesNotReturn]
    public void Abort(int code)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        library.Abort(library.CommWorld, code);
        Environment.Exit(code);   // MPI_Abort does not return; this is in case a library's does
    }

    /// <summary>Finalizes MPI (collective: every rank must dispose its world).</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (finalized) return;
            finalized = true;
            int done = 0;
            if (library.Finalized(&done) == 0 && done == 0) library.FinalizeCall();
        }
    }

    void EnsureOpen()
    {
        if (finalized) throw new MpiException("MPI was already finalized in this process");
    }

    void Check(int code, string call)
    {
        if (code != 0) throw new MpiException($"{call} failed on rank {Rank} of {Size}: {library.Describe(code)}");
    }
}

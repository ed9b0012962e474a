using System.CommandLine;
using Mlsae.Distributed;
using Mlsae.Runs;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary>
/// <c>train</c> as one rank of a data-parallel job (or as the one process): rank 0 logs, locks and
/// writes the run folder; the other ranks train silently beside it and write nothing.
/// </summary>
internal sealed class TrainRank
{
    TrainRank(IDataParallel parallel, CliConsole log) => (Parallel, Log) = (parallel, log);

    /// <summary>The ranks (one process without MPI).</summary>
    public IDataParallel Parallel { get; }
    /// <summary>Where this rank reports: the console on rank 0, nowhere on the others.</summary>
    public CliConsole Log { get; }
    /// <summary>Whether this rank writes the run folder.</summary>
    public bool Writes => Parallel.Writes();

    /// <summary>This rank of <paramref name="world"/> (null: one process), as <see cref="DistributedOptions.Start"/> makes it.</summary>
    public static TrainRank Start(ParseResult parse, CliConsole console, DistributedOptions distributed, MpiWorld? world)
    {
        var (parallel, log) = distributed.Start(parse, console, world);
        return new TrainRank(parallel ?? SingleProcess.Instance, log);
    }

    /// <summary>A new run's options with the number of ranks that start it (<c>world_size</c>).</summary>
    public TrainOptions Recorded(TrainOptions options) => options with { Runtime = options.Runtime with { WorldSize = Parallel.Size } };

    /// <summary>The run folder's lock, taken by the writing rank alone.</summary>
    public RunLock? Lock(string folder) => Writes ? RunLock.Acquire(folder) : null;

    /// <summary>A new run: created with <c>run.json</c> by rank 0, described in memory on the others.</summary>
    public Run Create(string folder, TrainOptions options) => Writes ? Run.Create(folder, options, replaceUnstarted: true) : Run.OfOtherRank(folder, options);
}

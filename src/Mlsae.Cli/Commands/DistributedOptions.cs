using System.CommandLine;
using Mlsae.Distributed;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary>
/// <c>--distributed</c> and <c>--threads-per-rank</c>, and the one way a command runs under MPI:
/// the world is opened when the launch asks for it, a failure on any rank becomes one line naming
/// the rank and its cause followed by <c>MPI_Abort</c> (so the other ranks end instead of waiting
/// in a collective), and MPI is finalized when the command ends.
/// </summary>
public sealed class DistributedOptions
{
    /// <summary><c>--distributed</c>.</summary>
    public Option<string> Distributed { get; } = new("--distributed")
    {
        Description = "mpi: spread the work over the MPI ranks of the launch; none: one process; auto (default): mpi when an MPI launcher (mpirun, mpiexec, srun --mpi) started the process",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary><c>--threads-per-rank</c>.</summary>
    public Option<int?> ThreadsPerRank { get; } = new("--threads-per-rank")
    {
        Description = "Compute threads of each MPI rank (default: the node's cores divided by its ranks, within the cores the launcher bound the rank to)",
    };

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Distributed);
        command.Options.Add(ThreadsPerRank);
    }

    /// <summary>The threads a rank of <paramref name="world"/> uses: <c>--threads-per-rank</c>, else
    /// <see cref="RankThreads.Default"/>.</summary>
    public int Threads(ParseResult parse, MpiWorld world)
    {
        var given = parse.GetValue(ThreadsPerRank);
        if (given is < 1) throw new MlsaeException($"--threads-per-rank must be at least 1, got {given}");
        return given ?? RankThreads.Default(world.LocalSize);
    }

    /// <summary>
    /// This process as one rank of <paramref name="world"/> (null: one process, the console, no ranks).
    /// Under MPI it sets the torch threads, rank 0 keeps the console and says first how many ranks
    /// take part, and the other ranks log nowhere (their errors still reach stderr through <see cref="Run"/>).
    /// </summary>
    public (IDataParallel? Parallel, CliConsole Log) Start(ParseResult parse, CliConsole console, MpiWorld? world)
    {
        if (world is null) return (null, console);
        int threads = Threads(parse, world);
        TorchSharp.torch.set_num_threads(threads);
        var log = world.Rank == 0 ? console : new CliConsole(TextWriter.Null, TextWriter.Null);
        log.Notice($"distributed: {world.Size} ranks ({world.Version}), {world.LocalSize} on this node, {threads} threads per rank");
        return (new MpiDataParallel(world), log);
    }

    /// <summary>Under several ranks, fails on every rank at start-up unless all opened the same
    /// analysis (flags, build, SAE and data, as <paramref name="session"/>'s metadata and
    /// <paramref name="extra"/> describe it).</summary>
    public static void Agree(IDataParallel? ranks, Analysis.AnalysisSession session, params string[] extra)
    {
        if (ranks is null) return;
        var metadata = session.Metadata().OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}");
        RankAgreement.Require(ranks, RankAgreement.Fingerprint(string.Join("\n", metadata.Concat(extra))), "the flags, the mlsae build, the SAE or the data");
    }

    /// <summary>
    /// Runs <paramref name="body"/> with the MPI world when the launch and <c>--distributed</c> ask
    /// for one (null: one process). Under several ranks an exception on this rank prints
    /// <c>error: rank r of N: …</c> and aborts the whole job with exit code 1.
    /// </summary>
    public int Run(ParseResult parse, CliConsole console, Func<MpiWorld?, int> body)
    {
        var mode = DistributedModes.Parse(parse.GetValue(Distributed));
        if (parse.GetValue(ThreadsPerRank) is int t && t < 1) throw new MlsaeException($"--threads-per-rank must be at least 1, got {t}");
        var launch = MpiLaunch.Detect();
        if (!MpiLaunch.Wanted(mode, launch)) return body(null);
        var world = MpiWorld.Open(launch);
        try
        {
            return body(world);
        }
        catch (Exception e) when (world.Size > 1)
        {
            console.Error.WriteLine($"error: rank {world.Rank} of {world.Size}: {console.Describe(e, out _).ReplaceLineEndings(" ")}");
            console.Error.Flush();
            world.Abort(1);
            return 1;   // not reached: MPI_Abort ends the process
        }
        finally
        {
            world.Dispose();
        }
    }
}

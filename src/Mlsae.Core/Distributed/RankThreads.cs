namespace Mlsae.Distributed;

/// <summary>How many compute threads one rank should use, so that the ranks on a node share its
/// cores instead of each taking them all.</summary>
public static class RankThreads
{
    /// <summary>
    /// The node's online cores divided by its ranks, and never more than this process may run on:
    /// a launcher that binds each rank to its own cores (Open MPI's default of one core per rank for
    /// two ranks, <c>--map-by slot:PE=n</c>) has already chosen, and its choice is the affinity mask.
    /// At least 1.
    /// </summary>
    public static int Default(int ranksOnNode) =>
        Math.Max(1, Math.Min(Environment.ProcessorCount, LibC.OnlineProcessors() / Math.Max(1, ranksOnNode)));
}

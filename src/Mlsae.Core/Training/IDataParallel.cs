using static TorchSharp.torch;

namespace Mlsae.Training;

/// <summary>
/// The processes one training run is spread over (data parallelism: one coder replica per rank).
/// Micro-batch j of the sequence stream belongs to rank j mod <see cref="Size"/>; each optimizer
/// step sums the gradients and the dead-latent tally of its micro-batches over all ranks before the
/// gradient projection and Adam, so every rank takes the same step, and only rank 0 writes files.
/// <see cref="SingleProcess"/> is a plain run; an MPI communicator is another.
/// </summary>
public interface IDataParallel
{
    /// <summary>This process's rank, 0 ≤ rank &lt; <see cref="Size"/>.</summary>
    int Rank { get; }
    /// <summary>The number of ranks (the world size).</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="tensor"/>'s values with their sum over all ranks, in place
    /// (float32, float64 or int64; contiguous, on the CPU or staged there by the implementation).</summary>
    void SumInPlace(Tensor tensor);

    /// <summary>Replaces <paramref name="tensor"/>'s values on every rank with rank
    /// <paramref name="root"/>'s, in place.</summary>
    void Broadcast(Tensor tensor, int root = 0);
}

/// <summary>Where the ranks split the work.</summary>
public static class DataParallel
{
    /// <summary>Whether <paramref name="parallel"/>'s rank trains on global micro-batch <paramref name="batch"/>.</summary>
    public static bool Takes(this IDataParallel parallel, long batch) => batch % parallel.Size == parallel.Rank;

    /// <summary>Whether this rank writes the run folder or the command's output (rank 0 alone; a
    /// process without ranks, null, always writes).</summary>
    public static bool Writes(this IDataParallel? parallel) => parallel is null || parallel.Rank == 0;
}

/// <summary>One process: every micro-batch is its own, sums and broadcasts change nothing.</summary>
public sealed class SingleProcess : IDataParallel
{
    /// <summary>The one instance.</summary>
    public static SingleProcess Instance { get; } = new();

    SingleProcess() { }

    /// <inheritdoc />
    public int Rank => 0;
    /// <inheritdoc />
    public int Size => 1;
    /// <inheritdoc />
    public void SumInPlace(Tensor tensor) { }
    /// <inheritdoc />
    public void Broadcast(Tensor tensor, int root = 0) { }
}

using System.Globalization;

namespace Mlsae.Distributed;

/// <summary>
/// What the environment says about how this process was started: by an MPI launcher (Open MPI's
/// <c>mpirun</c>, MPICH's Hydra, Slurm's <c>srun --mpi=…</c>, the MPI Operator's launcher, which
/// runs <c>mpirun</c>), how many processes it started and which one this is, and which MPI family
/// it belongs to when that can be told. Read before <c>MPI_Init</c>, so the right library is loaded
/// and a launch MPI will not see (a library of the other family, <c>srun</c> without an MPI
/// plugin) fails with a message instead of running N copies that each think they are alone.
/// </summary>
/// <param name="Launcher">How the launch reads, for messages ("Open MPI mpirun", "Slurm srun (PMIx)").</param>
/// <param name="Size">The number of processes the launcher started, when it says (null: it does not).</param>
/// <param name="Rank">This process's rank as the launcher numbers it, when it says.</param>
/// <param name="Family">The MPI family the launcher belongs to (null: either).</param>
/// <param name="UsesMpi">False for <c>srun</c> that started several tasks with no MPI plugin.</param>
public sealed record MpiLaunch(string Launcher, int? Size, int? Rank, MpiImplementation? Family, bool UsesMpi = true)
{
    /// <summary>The launch described by <paramref name="environment"/> (the process's by default);
    /// null for a process that no launcher started.</summary>
    public static MpiLaunch? Detect(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        int? Int(string name) => int.TryParse(environment(name), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
        bool underSrun = environment("SLURM_STEP_ID") is not null || environment("SLURM_STEPID") is not null;
        if (Int("OMPI_COMM_WORLD_SIZE") is int ompiSize)
            return new("Open MPI mpirun", ompiSize, Int("OMPI_COMM_WORLD_RANK"), MpiImplementation.OpenMpi);
        if (Int("PMI_SIZE") is int pmiSize)
            // Hydra (MPICH's mpiexec) sets PMI_*; so does srun --mpi=pmi2, for a library of either family.
            return underSrun
                ? new("Slurm srun (PMI-2)", pmiSize, Int("PMI_RANK"), null)
                : new("MPICH mpiexec (Hydra)", pmiSize, Int("PMI_RANK"), MpiImplementation.Mpich);
        if (environment("PMIX_RANK") is not null)
            return new(underSrun ? "Slurm srun (PMIx)" : "a PMIx launcher", underSrun ? Int("SLURM_NTASKS") : null, Int("PMIX_RANK"), null);
        if (underSrun && Int("SLURM_NTASKS") is > 1 and int tasks)
            return new("Slurm srun without an MPI plugin", tasks, Int("SLURM_PROCID"), null, UsesMpi: false);
        return null;
    }

    /// <summary>Whether this launch should run over MPI under <paramref name="mode"/>, failing with a
    /// message for a launch MPI cannot serve.</summary>
    public static bool Wanted(DistributedMode mode, MpiLaunch? launch)
    {
        if (mode == DistributedMode.None) return false;
        if (launch is { UsesMpi: false })
            throw new MpiException($"--distributed: {launch.Launcher} started {launch.Size} tasks that cannot talk to each other; launch with srun --mpi=pmix (or the cluster's MPI plugin), or --distributed none to run them independently");
        return mode == DistributedMode.Mpi || launch is not null;
    }
}

using Mlsae.Distributed;
using Xunit;

namespace Mlsae.Tests.Distributed;

/// <summary>Reading the launch from the environment, before MPI is loaded.</summary>
public sealed class MpiLaunchTests
{
    static MpiLaunch? Detect(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return MpiLaunch.Detect(name => map.GetValueOrDefault(name));
    }

    [Fact]
    public void NoLauncher_IsOneProcess()
    {
        Assert.Null(Detect());
        Assert.Null(Detect(("SLURM_NTASKS", "4"), ("SLURM_PROCID", "0")));   // a batch script's own shell, not a step
        Assert.Null(Detect(("SLURM_STEP_ID", "0"), ("SLURM_NTASKS", "1")));   // srun -n 1
        Assert.False(MpiLaunch.Wanted(DistributedMode.Auto, null));
        Assert.True(MpiLaunch.Wanted(DistributedMode.Mpi, null));
    }

    [Fact]
    public void OpenMpiMpirun()
    {
        var launch = Detect(("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "3"), ("PMIX_RANK", "3"));
        Assert.Equal(new MpiLaunch("Open MPI mpirun", 4, 3, MpiImplementation.OpenMpi), launch);
        Assert.True(MpiLaunch.Wanted(DistributedMode.Auto, launch));
        Assert.False(MpiLaunch.Wanted(DistributedMode.None, launch));
    }

    [Fact]
    public void MpichHydra_AndSrunPmi2()
    {
        Assert.Equal(new MpiLaunch("MPICH mpiexec (Hydra)", 2, 1, MpiImplementation.Mpich), Detect(("PMI_SIZE", "2"), ("PMI_RANK", "1")));
        // srun --mpi=pmi2 sets PMI_* too, for a library of either family.
        Assert.Equal(new MpiLaunch("Slurm srun (PMI-2)", 8, 5, null), Detect(("PMI_SIZE", "8"), ("PMI_RANK", "5"), ("SLURM_STEP_ID", "0"), ("SLURM_NTASKS", "8")));
    }

    [Fact]
    public void SrunPmix()
    {
        var launch = Detect(("PMIX_RANK", "2"), ("SLURM_STEP_ID", "1"), ("SLURM_NTASKS", "16"), ("SLURM_PROCID", "2"));
        Assert.Equal(new MpiLaunch("Slurm srun (PMIx)", 16, 2, null), launch);
        Assert.True(MpiLaunch.Wanted(DistributedMode.Auto, launch));
    }

    [Fact]
    public void SrunWithoutMpiPlugin_FailsInsteadOfRunningCopies()
    {
        var launch = Detect(("SLURM_STEP_ID", "0"), ("SLURM_NTASKS", "4"), ("SLURM_PROCID", "1"));
        Assert.NotNull(launch);
        Assert.False(launch!.UsesMpi);
        var e = Assert.Throws<MpiException>(() => MpiLaunch.Wanted(DistributedMode.Auto, launch));
        Assert.Contains("srun --mpi=pmix", e.Message);
        Assert.False(MpiLaunch.Wanted(DistributedMode.None, launch));
    }

    [Fact]
    public void DistributedFlag()
    {
        Assert.Equal(DistributedMode.Mpi, DistributedModes.Parse("mpi"));
        Assert.Equal(DistributedMode.None, DistributedModes.Parse("none"));
        Assert.Equal(DistributedMode.Auto, DistributedModes.Parse(null));
        Assert.Contains("--distributed", Assert.Throws<MlsaeException>(() => DistributedModes.Parse("nccl")).Message);
    }

    [Fact]
    public void RankThreads_ShareTheNodeAndNeverDropToZero()
    {
        Assert.Equal(1, RankThreads.Default(1000));
        Assert.True(RankThreads.Default(1) <= Environment.ProcessorCount);
        Assert.True(RankThreads.Default(1) >= RankThreads.Default(2));
    }
}

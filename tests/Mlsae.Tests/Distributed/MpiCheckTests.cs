using System.Text.Json.Nodes;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Serve;
using Xunit;

namespace Mlsae.Tests.Distributed;

/// <summary>The MPI binding through <c>mlsae mpi-check</c> on 2 ranks under each family's launcher;
/// in the serialized collection of the browser tests, since each job takes both cores.</summary>
[Collection(ServeCollection.Name)]
public sealed class MpiCheckTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData("openmpi", "Open MPI v")]
    [InlineData("mpich", "MPICH Version: ")]
    public void TwoRanks_CollectivesAgreeAndRankZeroReports(string family, string version)
    {
        if (MpiJob.Require(family) is not { } launcher) return;
        var json = Path.Combine(Path.GetTempPath(), $"mlsae-mpi-check-{Guid.NewGuid():N}.json");
        try
        {
            var result = MpiJob.Run(launcher, 2, Timeout, "mpi-check", "--floats", "100000", "--repeat", "3", "--out", json);
            Assert.True(result.ExitCode == 0, result.ToString());
            foreach (var rank in new[] { 0, 1 })
                Assert.Matches($@"rank {rank} of 2 on .*: {version}.*, 2 ranks on this node, threads per rank: 1", result.Out);
            Assert.Contains("agree on all 2 ranks", result.Out);
            var report = JsonNode.Parse(File.ReadAllText(json))!;
            Assert.Equal(2, (int)report["world_size"]!);
            Assert.Equal(400_000, (long)report["bytes"]!);
            Assert.True((double)report["bytes_per_second"]! > 0);
        }
        finally { File.Delete(json); }
    }

    [Theory]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void ARankThatFails_AbortsTheJobWithOneLineNamingIt(string family)
    {
        if (MpiJob.Require(family) is not { } launcher) return;
        // Rank 1 rejects its flag; rank 0 is already waiting in the first allreduce and must not hang there.
        var result = MpiJob.RunMpmd(launcher, Timeout, null, ["mpi-check"], ["mpi-check", "--floats", "0"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error: rank 1 of 2: --floats must be at least 1, got 0", result.Error);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(60), result.ToString());
    }

    [Fact]
    public void ALibraryOfTheOtherFamily_IsAnErrorNotTwoSingletons()
    {
        if (MpiJob.Require("mpich") is not { } launcher) return;
        var result = MpiJob.RunMpmd(launcher, Timeout, new Dictionary<string, string> { ["MLSAE_MPI_LIBRARY"] = "libmpi.so.40" },
            ["mpi-check"], ["mpi-check"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("MPICH mpiexec (Hydra) started 2 processes but libmpi.so.40 (Open MPI v", result.Error);
        Assert.DoesNotContain("agree on all", result.Out);
    }

    [Fact]
    public void WithoutALauncher_SaysHowToStartOne()
    {
        var result = CliRunner.Run("mpi-check");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("error: mpi-check: not started by an MPI launcher", result.Error);
    }
}

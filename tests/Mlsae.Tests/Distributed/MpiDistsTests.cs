using Mlsae.Tests.Serve;
using Xunit;

namespace Mlsae.Tests.Distributed;

/// <summary><c>mlsae dists</c> under MPI: the ranks share the batches and rank 0 writes the exact sum,
/// the same bytes as one process over all the batches (the SAE is the explorer tests' tiny run).</summary>
[Collection(ServeCollection.Name)]
public sealed class MpiDistsTests(ServeFixture serve)
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("openmpi", 2)]
    [InlineData("mpich", 3)]
    public void DistsOverRanks_AreByteForByteOneProcesssFiles(string family, int ranks)
    {
        if (MpiJob.Require(family) is not { } launcher) return;
        var dir = Fixtures.TempDir();
        string[] Args(string name) => ["dists", "--sae", serve.RunFolder, "--max-tokens", "1024", "--batch-size", "2", "--no-figures", "--layer-std-every", "0", "--out", Path.Combine(dir, name)];
        var one = MpiJob.RunAlone(Timeout, Args("one.safetensors"));
        Assert.True(one.ExitCode == 0, one.ToString());
        var spread = MpiJob.Run(launcher, ranks, Timeout, [.. Args("mpi.safetensors"), "--threads-per-rank", "1"]);
        Assert.True(spread.ExitCode == 0, spread.ToString());
        Assert.Contains($"distributed: {ranks} ranks", spread.Error);
        foreach (var suffix in new[] { ".safetensors", ".json", ".csv", "_histogram.csv", "_histogram_noninteger.csv" })
            Assert.True(File.ReadAllBytes(Path.Combine(dir, "one" + suffix)).SequenceEqual(File.ReadAllBytes(Path.Combine(dir, "mpi" + suffix))), $"{suffix} differs");
    }
}

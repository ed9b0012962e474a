using Mlsae.Runs;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Training;
using Xunit;

namespace Mlsae.Tests.Runs;

public class RunLockTests
{
    [Fact]
    public void ASecondWriterOfARunFolderFailsWithOneLineAndTheFirstIsUntouched()
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        using (RunLock.Acquire(run))
        {
            var r = CliRunner.Run(TinyRun.TrainArgs(TinyRun.Data(40), run, steps: 2));
            Assert.Equal(1, r.ExitCode);
            Assert.Contains($"{run} is in use by another mlsae process (pid {Environment.ProcessId})", r.Error);
            Assert.False(File.Exists(Path.Combine(run, "run.json")));
        }
        // Released (as the kernel releases it when a process dies): the folder is usable again.
        var again = CliRunner.Run(TinyRun.TrainArgs(TinyRun.Data(40), run, steps: 2));
        Assert.True(again.ExitCode == 0, again.Error);
    }
}

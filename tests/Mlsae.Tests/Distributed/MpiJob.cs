using System.Diagnostics;
using Xunit;

namespace Mlsae.Tests.Distributed;

/// <summary>
/// Runs the built <c>mlsae</c> (the assembly beside the tests, not <c>dotnet run</c>) under a real
/// MPI launcher. <c>.ci/run</c> installs both launchers, so a missing one fails the test with the
/// package to install; <c>MLSAE_NO_MPI=1</c> opts a machine without MPI out of these tests.
/// </summary>
public static class MpiJob
{
    /// <summary>A launcher: its executable and the flags these tests always pass.</summary>
    public sealed record Launcher(string Name, string Executable, string Package, string[] Flags);

    /// <summary>Open MPI's own launcher (plain <c>mpirun</c> may be either family when both are installed):
    /// as root it needs <c>--allow-run-as-root</c>, beyond the cores <c>--oversubscribe</c>.</summary>
    public static readonly Launcher OpenMpi = new("Open MPI", "mpirun.openmpi", "openmpi-bin", ["--allow-run-as-root", "--oversubscribe"]);
    /// <summary>MPICH's Hydra.</summary>
    public static readonly Launcher Mpich = new("MPICH", "mpirun.mpich", "mpich", []);

    /// <summary>The launcher named <paramref name="family"/> (<c>openmpi</c> or <c>mpich</c>); null
    /// when <c>MLSAE_NO_MPI=1</c> (the caller returns); a failed assertion when it is not installed.</summary>
    public static Launcher? Require(string family)
    {
        var launcher = family == "openmpi" ? OpenMpi : family == "mpich" ? Mpich : throw new ArgumentException(family);
        if (Environment.GetEnvironmentVariable("MLSAE_NO_MPI") == "1") return null;
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, launcher.Executable)));
        Assert.True(found, $"{launcher.Executable} not found: apt-get install {launcher.Package} (.ci/run installs it), or set MLSAE_NO_MPI=1 to skip the MPI tests");
        return launcher;
    }

    /// <summary>What the job printed and how it ended.</summary>
    public sealed record Result(int ExitCode, string Out, string Error, TimeSpan Elapsed)
    {
        /// <summary>Both streams, for assertion messages.</summary>
        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s\nstdout:\n{Out}\nstderr:\n{Error}";
    }

    /// <summary>The built CLI assembly.</summary>
    public static string Mlsae => Path.Combine(AppContext.BaseDirectory, "mlsae.dll");

    /// <summary>Runs <c>mlsae <paramref name="args"/></c> as one plain process with one compute thread,
    /// as a rank of these jobs runs (torch's threads spin: on a loaded 2-core machine two of them are
    /// many times slower than one).</summary>
    public static Result RunAlone(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[Mlsae, .. args]) start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = "1";
        start.Environment["MKL_NUM_THREADS"] = "1";
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mlsae {string.Join(' ', args)} did not end within {timeout.TotalSeconds:F0} s");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    /// <summary>Runs <c>mlsae <paramref name="args"/></c> on <paramref name="ranks"/> ranks.</summary>
    public static Result Run(Launcher launcher, int ranks, TimeSpan timeout, params string[] args) =>
        RunMpmd(launcher, timeout, null, Enumerable.Repeat(args, ranks).ToArray());

    /// <summary>Runs one rank per entry of <paramref name="perRank"/>, each with its own arguments
    /// (the launchers' MPMD form <c>-n 1 a : -n 1 b</c>), with extra environment variables.</summary>
    public static Result RunMpmd(Launcher launcher, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[][] perRank)
    {
        var start = new ProcessStartInfo(launcher.Executable)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        foreach (var flag in launcher.Flags) start.ArgumentList.Add(flag);
        for (int i = 0; i < perRank.Length; i++)
        {
            if (i > 0) start.ArgumentList.Add(":");
            foreach (var a in (string[])["-n", "1", "dotnet", Mlsae, .. perRank[i]]) start.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) start.Environment[k] = v;
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{launcher.Executable} -n {perRank.Length} mlsae {string.Join(' ', perRank[0])} did not end within {timeout.TotalSeconds:F0} s\nstdout:\n{stdout.Result}\nstderr:\n{stderr.Result}");
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }
}

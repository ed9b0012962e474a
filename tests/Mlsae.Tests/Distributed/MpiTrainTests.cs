using System.Diagnostics;
using System.Text.Json.Nodes;
using Mlsae.IO;
using Mlsae.Tests.Serve;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Distributed;

/// <summary>
/// <c>mlsae train</c> on 2 ranks × 1 thread through the real launchers, against the same run in one
/// process: a tiny MLSAE on the embedded model, 16 optimizer steps of 4 micro-batches.
/// </summary>
[Collection(ServeCollection.Name)]
public sealed class MpiTrainTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    /// <summary>16 steps of 4 micro-batches of 2 × 32 tokens; checkpoints every 2 steps; no final validation.</summary>
    static readonly string[] Flags =
    [
        "--max-tokens", "4096", "--batch-size", "2", "--max-length", "32", "--expansion-factor", "2", "-k", "4", "--auxk", "8",
        "--val-batches", "0", "--accumulate-grad-batches", "4", "--val-every", "0", "--checkpoint-every", "2", "--log-every", "1", "--seed", "3",
    ];
    const int Steps = 16;

    /// <summary>Float32 sums of the same gradients in another order (per rank, then over ranks) differ in
    /// the last bits; over 16 Adam steps that stays below this (measured: 4e-6 after 32 steps).</summary>
    const double Tolerance = 1e-5;

    static readonly Lazy<string> OneProcess = new(() =>
    {
        var dir = Path.Combine(Fixtures.TempDir(), "one");
        var r = MpiJob.RunAlone(Timeout, ["train", "--out", dir, .. Flags]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return dir;
    });

    static readonly Dictionary<string, string> Uninterrupted = [];

    /// <summary><paramref name="flags"/> with <paramref name="name"/>'s value replaced.</summary>
    static string[] With(string[] flags, string name, string value)
    {
        var copy = flags.ToArray();
        copy[Array.IndexOf(copy, name) + 1] = value;
        return copy;
    }

    static string[] Train(string dir, params string[] extra) => ["train", "--out", dir, .. Flags, "--threads-per-rank", "1", .. extra];

    /// <summary>The uninterrupted 2-rank run of <paramref name="launcher"/>, made once.</summary>
    static (string Dir, MpiJob.Result Result) TwoRanks(MpiJob.Launcher launcher)
    {
        var dir = Path.Combine(Fixtures.TempDir(), "mpi");
        var result = MpiJob.Run(launcher, 2, Timeout, Train(dir, "--check-replicas"));
        Assert.True(result.ExitCode == 0, result.ToString());
        lock (Uninterrupted) Uninterrupted[launcher.Executable] = dir;
        return (dir, result);
    }

    static void AssertParametersClose(string expectedDir, string actualDir, double tolerance) =>
        AssertTensorsClose(Path.Combine(expectedDir, "model.safetensors"), Path.Combine(actualDir, "model.safetensors"), tolerance);

    /// <summary>Every tensor of two safetensors files within <paramref name="tolerance"/> (max |Δ|).</summary>
    internal static void AssertTensorsClose(string expectedFile, string actualFile, double tolerance)
    {
        using var expected = SafeTensorsFile.Open(expectedFile);
        using var actual = SafeTensorsFile.Open(actualFile);
        Assert.Equal(expected.Names.Order(), actual.Names.Order());
        foreach (var name in expected.Names)
        {
            using var a = expected.Read(name).to(ScalarType.Float64);
            using var b = actual.Read(name).to(ScalarType.Float64);
            double diff = (a - b).abs().max().item<double>();
            Assert.True(diff <= tolerance, $"{actualFile} {name}: max |Δ| {diff:E2} > {tolerance:E0}");
        }
    }

    static List<JsonObject> Metrics(string dir) =>
        File.ReadAllLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Theory]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void TwoRanks_EndAsOneProcess_WithBitIdenticalReplicasAtEveryStep(string family)
    {
        if (MpiJob.Require(family) is not { } launcher) return;
        var one = OneProcess.Value;
        var (dir, result) = TwoRanks(launcher);

        Assert.StartsWith("distributed: 2 ranks (", result.Error.Replace("\u001b[?1h\u001b=", "").TrimStart());
        // Every step's parameter checksum agreed over the ranks (a disagreement would have stopped the job).
        for (int step = 1; step <= Steps; step++)
            Assert.Contains($"replicas: step {step}, parameters identical on all 2 ranks (xxhash64 ", result.Error);
        AssertParametersClose(one, dir, Tolerance);
        Assert.Equal(2, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "run.json")))!["world_size"]!);
        Assert.Equal(1, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(one, "run.json")))!["world_size"]!);

        // Rank 0 logged every micro-batch of every rank: the same lines as one process, to float32 order.
        var (m1, m2) = (Metrics(one), Metrics(dir));
        Assert.Equal(m1.Select(m => (long)m["step"]!), m2.Select(m => (long)m["step"]!));
        Assert.Equal(m1.Select(m => (long)m["tokens"]!), m2.Select(m => (long)m["tokens"]!));
        foreach (var (a, b) in m1.Zip(m2)) Assert.Equal((double)a["loss"]!, (double)b["loss"]!, Tolerance);
        // One writer: nothing in the folder that a one-process run does not write.
        Assert.Equal(Files(one), Files(dir));
    }

    static string[] Files(string dir) => Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(dir, f)).Where(f => !f.StartsWith(".lock")).Order().ToArray();

    [Fact]
    public void Resume_AfterSigkillOfTheWholeJob_UnderMpiAndInOneProcess()
    {
        if (MpiJob.Require("openmpi") is not { } launcher) return;
        string uninterrupted;
        lock (Uninterrupted) uninterrupted = Uninterrupted.GetValueOrDefault(launcher.Executable) ?? "";
        if (uninterrupted == "") uninterrupted = TwoRanks(launcher).Dir;
        var dir = Path.Combine(Fixtures.TempDir(), "killed");
        var state = Path.Combine(dir, "state", "training_state.safetensors");

        var start = new ProcessStartInfo(launcher.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])[.. launcher.Flags, "-n", "2", "dotnet", MpiJob.Mlsae, .. Train(dir)]) start.ArgumentList.Add(a);
        using (var job = Process.Start(start)!)
        {
            _ = job.StandardOutput.ReadToEndAsync();
            _ = job.StandardError.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            while (!File.Exists(state) && !job.HasExited && clock.Elapsed < Timeout) Thread.Sleep(50);
            Assert.False(job.HasExited, "the job ended before its first checkpoint");
            job.Kill(entireProcessTree: true);   // SIGKILL to mpirun and both ranks
            job.WaitForExit();
        }
        long killedAt;
        using (var saved = SafeTensorsFile.Open(state)) killedAt = long.Parse(saved.Metadata["step"]);
        Assert.InRange(killedAt, 2, Steps - 1);

        var copy = Path.Combine(Fixtures.TempDir(), "killed-copy");
        CopyFolder(dir, copy);

        var resumed = MpiJob.Run(launcher, 2, Timeout, "train", "--resume", "--out", dir, "--threads-per-rank", "1");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        // The same ranks resume bit for bit; the metrics are the uninterrupted run's but for the clock.
        Assert.Equal(File.ReadAllBytes(Path.Combine(uninterrupted, "model.safetensors")), File.ReadAllBytes(Path.Combine(dir, "model.safetensors")));
        static IEnumerable<string> Timeless(string d) => Metrics(d).Select(m => { m.Remove("seconds"); return m.ToJsonString(); });
        Assert.Equal(Timeless(uninterrupted), Timeless(dir));

        // The state is rank-independent: one process continues the 2-rank run and ends as one process would.
        var alone = MpiJob.RunAlone(Timeout, "train", "--resume", "--out", copy);
        Assert.True(alone.ExitCode == 0, alone.ToString());
        AssertParametersClose(OneProcess.Value, copy, Tolerance);
    }

    static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (!Path.GetFileName(file).StartsWith(".lock")) File.Copy(file, target);
        }
    }

    [Theory]
    [InlineData("openmpi")]
    [InlineData("mpich")]
    public void AKilledRank_EndsTheJobInBoundedTimeWithAMessage(string family)
    {
        if (MpiJob.Require(family) is not { } launcher) return;
        var dir = Path.Combine(Fixtures.TempDir(), "rank-killed");
        var start = new ProcessStartInfo(launcher.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] args = ["train", "--out", dir, .. With(Flags, "--max-tokens", "1000000"), "--threads-per-rank", "1"];
        foreach (var a in (string[])[.. launcher.Flags, "-n", "2", "dotnet", MpiJob.Mlsae, .. args]) start.ArgumentList.Add(a);
        using var job = new Process { StartInfo = start };
        var said = new System.Text.StringBuilder();
        job.OutputDataReceived += (_, e) => { lock (said) said.AppendLine(e.Data); };
        job.ErrorDataReceived += (_, e) => { lock (said) said.AppendLine(e.Data); };
        job.Start();
        job.BeginOutputReadLine();
        job.BeginErrorReadLine();
        try
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(dir, "state", "training_state.safetensors")) && !job.HasExited && clock.Elapsed < Timeout) Thread.Sleep(50);
            Assert.False(job.HasExited, $"the job ended before its first checkpoint: {said}");
            var rank = Ranks(job.Id).First();
            Process.GetProcessById(rank).Kill();   // SIGKILL one rank; the other is inside a step's allreduce or about to be
            clock.Restart();
            Assert.True(job.WaitForExit(TimeSpan.FromSeconds(60)), "the job did not end within 60 s of a rank's death");
            job.WaitForExit();   // the output is read to its end
            Assert.NotEqual(0, job.ExitCode);
            var text = said.ToString();
            Assert.True(text.Contains("signal 9") || text.Contains("EXIT CODE: 9") || text.Contains("Killed"), text);
        }
        finally
        {
            if (!job.HasExited) job.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The pids of the processes under <paramref name="root"/> that run mlsae.</summary>
    static List<int> Ranks(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var d in Directory.GetDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(d), out int pid))
                try
                {
                    var stat = File.ReadAllText(Path.Combine(d, "stat"));
                    parents[pid] = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                }
                catch (IOException) { }
        bool Under(int pid) { for (int p = pid; p > 1 && parents.TryGetValue(p, out var up); p = up) if (up == root) return true; return false; }
        var ranks = parents.Keys.Where(Under).Where(p =>
        {
            try { return File.ReadAllText($"/proc/{p}/cmdline").Contains("mlsae.dll"); } catch (IOException) { return false; }
        }).ToList();
        Assert.True(ranks.Count == 2, $"found {ranks.Count} rank processes under {root}");
        return ranks;
    }

    [Fact]
    public void RanksThatDisagree_OrFlagsThatCannotSpread_FailAtStartUpInOneLine()
    {
        if (MpiJob.Require("openmpi") is not { } launcher) return;
        var dir = Path.Combine(Fixtures.TempDir(), "disagree");
        var disagree = MpiJob.RunMpmd(launcher, Timeout, null, Train(dir), ["train", "--out", dir, .. With(Flags, "--seed", "4"), "--threads-per-rank", "1"]);
        Assert.NotEqual(0, disagree.ExitCode);
        Assert.Contains("error: rank 0 of 2: the ranks disagree on the flags, the mlsae build or the data (run options and validation batches): rank 1 of 2 differ", disagree.Error);

        var odd = MpiJob.Run(launcher, 2, Timeout, ["train", "--out", Path.Combine(Fixtures.TempDir(), "odd"), .. With(Flags, "--accumulate-grad-batches", "3")]);
        Assert.NotEqual(0, odd.ExitCode);
        Assert.Contains("--accumulate-grad-batches 3 must be a multiple of the 2 ranks", odd.Error);

        var quirks = MpiJob.Run(launcher, 2, Timeout, Train(Path.Combine(Fixtures.TempDir(), "quirks"), "--reference-quirks"));
        Assert.NotEqual(0, quirks.ExitCode);
        Assert.Contains("--reference-quirks: the reference's order", quirks.Error);
    }
}

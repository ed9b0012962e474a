using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Mlsae.Distributed;
using Mlsae.IO;

namespace Mlsae.Cli.Commands;

/// <summary>
/// <c>mlsae mpi-check</c>: checks a launch before a long run. Every rank prints where it runs and
/// which MPI it loaded; the collectives the trainer uses are checked against values known in
/// advance; and rank 0 times an allreduce of <c>--floats</c> float32 values (the gradient sum of a
/// step is one such call over all the coder's parameters).
/// </summary>
public static class MpiCheckCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var floats = new Option<long>("--floats") { Description = "float32 values in the timed allreduce (the coder's parameter count for a step's cost)", DefaultValueFactory = _ => 4_194_304 };
        var repeat = new Option<int>("--repeat") { Description = "Timed allreduces (the median is reported)", DefaultValueFactory = _ => 5 };
        var output = new Option<string?>("--out") { Description = "JSON file for rank 0's results" };
        var distributed = new DistributedOptions();
        var command = new Command("mpi-check", "Check an MPI launch: ranks, library, collectives, allreduce bandwidth") { floats, repeat, output };
        distributed.AddTo(command);
        command.SetAction(parse => console.Guard(() => distributed.Run(parse, console, world =>
        {
            if (world is null) throw new MlsaeException("mpi-check: not started by an MPI launcher (run it with mpirun -n N, mpiexec, or srun --mpi=pmix; or pass --distributed mpi)");
            long count = parse.GetValue(floats);
            int times = parse.GetValue(repeat);
            if (count < 1) throw new MlsaeException($"--floats must be at least 1, got {count}");
            if (times < 1) throw new MlsaeException($"--repeat must be at least 1, got {times}");
            console.Out.WriteLine($"rank {world.Rank} of {world.Size} on {Environment.MachineName} (pid {Environment.ProcessId}): {world.Version} ({world.LibraryPath}), "
                + $"{world.LocalSize} ranks on this node, threads per rank: {distributed.Threads(parse, world)}");
            CheckCollectives(world);
            var (seconds, bandwidth) = TimeAllreduce(world, count, times);
            if (world.Rank == 0)
            {
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"collectives: allreduce (sum, max, min; float32, float64, int64, int32), broadcast, barrier agree on all {world.Size} ranks"));
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"allreduce of {count:N0} float32 ({count * 4 / 1e6:F1} MB): {seconds * 1e3:F2} ms (median of {times}), {bandwidth / 1e9:F3} GB/s (bytes / time)"));
                if (parse.GetValue(output) is string path)
                    AtomicFile.WriteText(path, new JsonObject
                    {
                        ["world_size"] = world.Size, ["ranks_on_node"] = world.LocalSize, ["library"] = world.Version, ["implementation"] = world.Implementation.ToString(),
                        ["floats"] = count, ["bytes"] = count * 4, ["allreduce_seconds"] = seconds, ["bytes_per_second"] = bandwidth,
                    }.ToJsonString() + "\n");
            }
            return 0;
        })));
        return command;
    }

    /// <summary>Each collective on values whose result every rank knows in advance.</summary>
    static void CheckCollectives(MpiWorld world)
    {
        int n = world.Size, r = world.Rank;
        void Expect<T>(string what, T got, T expected) where T : IEquatable<T>
        {
            if (!got.Equals(expected)) throw new MpiException($"mpi-check: {what} gave {got} on rank {r}, expected {expected}");
        }
        Expect("allreduce sum (float64)", world.Allreduce(r + 1.0, MpiOp.Sum), n * (n + 1) / 2.0);
        Expect("allreduce sum (float32)", world.Allreduce(r + 1f, MpiOp.Sum), n * (n + 1) / 2f);
        Expect("allreduce sum (int64)", world.Allreduce((1L << 40) + r, MpiOp.Sum), (1L << 40) * n + n * (n - 1L) / 2);
        Expect("allreduce sum (int32)", world.Allreduce(r, MpiOp.Sum), n * (n - 1) / 2);
        Expect("allreduce max (int64)", world.Allreduce((long)r, MpiOp.Max), n - 1L);
        Expect("allreduce min (float64)", world.Allreduce(-r - 0.5, MpiOp.Min), -(n - 1) - 0.5);
        var values = new long[3];
        if (r == 0) values = [7, -1, long.MaxValue];
        world.Broadcast<long>(values, root: 0);
        Expect("broadcast from rank 0", string.Join(",", values), $"7,-1,{long.MaxValue}");
        world.Barrier();
    }

    /// <summary>The median time of <paramref name="times"/> in-place float32 allreduces of
    /// <paramref name="count"/> values (after one untimed), as rank 0 saw it, and bytes / time.</summary>
    static (double Seconds, double BytesPerSecond) TimeAllreduce(MpiWorld world, long count, int times)
    {
        var buffer = GC.AllocateUninitializedArray<float>(checked((int)count), pinned: true);
        buffer.AsSpan().Fill(1f);
        world.AllreduceInPlace<float>(buffer, MpiOp.Sum);
        var samples = new double[times];
        for (int i = 0; i < times; i++)
        {
            world.Barrier();
            var clock = Stopwatch.StartNew();
            world.AllreduceInPlace<float>(buffer, MpiOp.Max);   // max keeps the values bounded over repeats
            samples[i] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(samples);
        double median = samples[times / 2];
        return (median, count * 4 / Math.Max(median, 1e-12));
    }
}

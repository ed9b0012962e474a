using System.Diagnostics;
using Mlsae.Cli;
using Mlsae.Cli.Commands;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Mlsae.Tests.Distributed;

/// <summary>The launch examples in <c>deploy/</c> that README "Running on many machines" points to:
/// each is read as its tool would read it, its rank count adds up, and its <c>mlsae train</c>
/// arguments are accepted by the real command and by the trainer's rules for that many ranks.</summary>
public sealed class DeployExamplesTests
{
    static string Example(string path) => Path.Combine(AppContext.BaseDirectory, "deploy", path);

    /// <summary>The train arguments parse without error, and <c>--accumulate-grad-batches</c> is a
    /// multiple of the ranks (the trainer refuses anything else under MPI).</summary>
    static void AssertTrainArguments(IReadOnlyList<string> args, int ranks)
    {
        Assert.Equal("train", args[0]);
        var parse = TrainCommand.Create(new CliConsole(TextWriter.Null, TextWriter.Null)).Parse(args.Skip(1).ToArray());
        Assert.True(parse.Errors.Count == 0, string.Join("; ", parse.Errors.Select(e => e.Message)));
        int accumulate = int.Parse(args[args.ToList().IndexOf("--accumulate-grad-batches") + 1]);
        Assert.Equal(0, accumulate % ranks);
    }

    static YamlMappingNode Map(YamlNode node, string key) => (YamlMappingNode)((YamlMappingNode)node)[key];
    static string Scalar(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;
    static YamlMappingNode Container(YamlMappingNode replica) =>
        (YamlMappingNode)((YamlSequenceNode)Map(Map(replica, "template"), "spec")["containers"]).Children.Single();
    static List<string> Strings(YamlNode node, string key) => ((YamlSequenceNode)((YamlMappingNode)node)[key]).Children.Select(c => ((YamlScalarNode)c).Value!).ToList();

    [Fact]
    public void KubernetesMpiJob_IsAValidMpiJobWhoseRanksAddUp()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Example("kubernetes/mpijob.yaml"))) yaml.Load(reader);
        var job = (YamlMappingNode)yaml.Documents.Single().RootNode;
        Assert.Equal("kubeflow.org/v2beta1", Scalar(job, "apiVersion"));
        Assert.Equal("MPIJob", Scalar(job, "kind"));
        var spec = Map(job, "spec");
        Assert.Equal("OpenMPI", Scalar(spec, "mpiImplementation"));
        var replicas = Map(spec, "mpiReplicaSpecs");
        Assert.Equal(["Launcher", "Worker"], replicas.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Order());
        var launcher = Map(replicas, "Launcher");
        var worker = Map(replicas, "Worker");
        Assert.Equal("1", Scalar(launcher, "replicas"));
        int slots = int.Parse(Scalar(spec, "slotsPerWorker"));
        int ranks = int.Parse(Scalar(worker, "replicas")) * slots;

        var launcherContainer = Container(launcher);
        Assert.Equal(["mpirun"], Strings(launcherContainer, "command"));
        var args = Strings(launcherContainer, "args");
        Assert.Equal(ranks, int.Parse(args[args.IndexOf("-n") + 1]));
        int exe = args.IndexOf("/opt/mlsae/mlsae");
        Assert.True(exe > 0, "the launcher runs /opt/mlsae/mlsae");
        var train = args.Skip(exe + 1).ToList();
        AssertTrainArguments(train, ranks);

        // The worker's cores are shared by its ranks; the run folder and the hub cache are on the shared volume.
        var workerContainer = Container(worker);
        int cpus = int.Parse(Scalar(Map(Map(workerContainer, "resources"), "limits"), "cpu"));
        Assert.Equal(cpus, slots * int.Parse(train[train.IndexOf("--threads-per-rank") + 1]));
        var mount = ((YamlSequenceNode)workerContainer["volumeMounts"]).Children.Cast<YamlMappingNode>().Single();
        string root = Scalar(mount, "mountPath");
        Assert.StartsWith(root + "/", train[train.IndexOf("--out") + 1]);
        Assert.Contains(args, a => a.StartsWith("HF_HOME=" + root + "/"));
        var volume = ((YamlSequenceNode)Map(Map(worker, "template"), "spec")["volumes"]).Children.Cast<YamlMappingNode>().Single();
        Assert.Equal(Scalar(mount, "name"), Scalar(volume, "name"));
        Assert.Equal("sshd", Path.GetFileName(Strings(workerContainer, "command")[0]));
    }

    [Fact]
    public void SlurmBatchScript_RunsSrunWithPmixOverAllItsTasks()
    {
        var script = Example("slurm/train.sbatch");
        var directives = File.ReadLines(script).Where(l => l.StartsWith("#SBATCH --")).Select(l => l["#SBATCH --".Length..].Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
        int ranks = int.Parse(directives["nodes"]) * int.Parse(directives["ntasks-per-node"]);
        // bash runs the script itself, with srun replaced by a function that prints the arguments it was given.
        var start = new ProcessStartInfo("bash", ["-c", "srun() { printf '%s\\n' \"$@\"; }; export -f srun; exec bash \"$0\"", script])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.Environment["SLURM_CPUS_PER_TASK"] = directives["cpus-per-task"];
        start.Environment["MLSAE"] = "/shared/mlsae";
        using var process = Process.Start(start)!;
        var args = process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, error);
        Assert.Contains("--mpi=pmix", args);
        Assert.Contains("--kill-on-bad-exit=1", args);
        int exe = args.IndexOf("/shared/mlsae");
        Assert.True(exe > 0, string.Join(" ", args));
        var train = args.Skip(exe + 1).ToList();
        AssertTrainArguments(train, ranks);
        Assert.Equal(directives["cpus-per-task"], train[train.IndexOf("--threads-per-rank") + 1]);
    }
}

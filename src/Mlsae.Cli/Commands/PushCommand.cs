using System.CommandLine;
using Mlsae.Hub;
using Mlsae.Runs;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae push</c>: a run's checkpoint (plain and <c>-tfm</c>) and its dists and examples (datasets) to the hub.</summary>
public static class PushCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var run = new Option<string>("--run") { Description = "Run folder (from mlsae train)", Required = true };
        var repo = new Option<string>("--repo") { Description = "Hub id of the model repo (user/name); -tfm, -dists and -examples repos are derived from it", Required = true };
        var isPrivate = new Option<bool>("--private") { Description = "Create new repos as private (existing repos keep their visibility)" };
        var dists = new Option<string?>("--dists") { Description = "Dists file to push (default: the run's dists.safetensors, when present)" };
        var examples = new Option<string?>("--examples") { Description = "Examples database to push (default: the run's examples.db, when present)" };
        var command = new Command("push", "Upload a run's checkpoint in the reference's layouts and its dists/examples as datasets to the hub")
            { run, repo, isPrivate, dists, examples };
        command.SetAction(parse => console.Guard(() =>
        {
            var dir = parse.GetValue(run)!;
            if (!Run.Exists(dir)) throw new MlsaeException($"--run: {dir} holds no run.json (not a run folder)");
            var repoId = parse.GetValue(repo)!;
            if (!HubClient.LooksLikeRepoId(repoId) || repoId.StartsWith('.'))
                throw new MlsaeException($"--repo: '{IO.ContainedPath.Printable(repoId)}' is not a hub id (user/name)");
            // Settings (and the token check) come first, so that a missing token fails before any work.
            using var hub = new HubUpload(HubSettings.FromEnvironment(), console);
            var staging = Directory.CreateTempSubdirectory("mlsae-push-").FullName;
            try
            {
                var targets = RunPush.Plan(dir, repoId, staging, parse.GetValue(dists), parse.GetValue(examples));
                RunPush.Push(hub, targets, parse.GetValue(isPrivate), console);
                console.Out.WriteLine($"pushed {targets.Count} repos: {string.Join(", ", targets.Select(t => t.RepoId))}");
            }
            finally { Directory.Delete(staging, recursive: true); }
            return 0;
        }));
        return command;
    }
}

using System.CommandLine;
using Mlsae.Reports;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae report</c>: one self-contained HTML file (figures embedded) for a run folder.</summary>
public static class ReportCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var run = new Option<string>("--run") { Description = "Run folder (from mlsae train)", Required = true };
        var output = new Option<string?>("--out") { Description = "Output HTML (default: <run>/report.html)" };
        var dists = new Option<string?>("--dists") { Description = "Dists to draw instead of the run's: a dists.safetensors file or a dataset hub id (as mlsae push writes, <repo>-dists)" };
        var compare = new Option<string?>("--compare") { Description = "Another run folder (e.g. the same run without --tuned-lens) whose rel_var_t, mean layer_std and single-layer share are shown beside this run's" };
        var command = new Command("report", "An offline HTML report of a run: metrics table and figures") { run, output, dists, compare };
        command.SetAction(parse => console.Guard(() =>
        {
            var dir = parse.GetValue(run)!;
            if (!Runs.Run.Exists(dir)) throw new MlsaeException($"--run: {dir} holds no run.json (not a run folder)");
            var path = parse.GetValue(output) ?? Path.Combine(dir, "report.html");
            var distsPath = parse.GetValue(dists) is string value
                ? Analysis.DistsDataset.Resolve(value, "--dists", CliHub.Lazy(console))
                : null;
            RunFigures.Draw(dir, distsPath);
            RunReport.Write(dir, path, parse.GetValue(compare));
            console.Out.WriteLine($"wrote {path}");
            return 0;
        }));
        return command;
    }
}

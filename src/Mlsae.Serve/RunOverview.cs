using Mlsae.Evaluation;

namespace Mlsae.Serve;

/// <summary>A run folder as the overview page shows it, read at start-up: its arguments, the
/// evaluation table and its figures (the PNGs the reports library drew into it).</summary>
/// <param name="Name">The folder's name.</param>
/// <param name="Options">run.json.</param>
/// <param name="Eval">The per-layer metrics table, or null before the run finished.</param>
/// <param name="Figures">The figures by file name.</param>
public sealed record RunOverview(string Name, string Options, (string[] Headers, List<string[]> Rows)? Eval, IReadOnlyList<(string Name, byte[] Png)> Figures)
{
    /// <summary>Reads the run folder <paramref name="folder"/>.</summary>
    public static RunOverview Read(string folder)
    {
        var run = Runs.Run.Open(folder);
        var eval = run.Eval();
        var figures = Directory.EnumerateFiles(folder, "*.png").Order(StringComparer.Ordinal)
            .Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToList();
        return new RunOverview(Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')), run.Options.ToJson(), eval is null ? null : EvalSummary.Table(eval), figures);
    }
}

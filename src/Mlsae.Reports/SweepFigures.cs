using Mlsae.Sweeps;
using ScottPlot;

namespace Mlsae.Reports;

/// <summary>
/// The paper's comparison of a sweep: FVU against L0 and ΔCE against L0, one point per member
/// (the mean over layers of its eval.json), one series per kind, so that the MLSAE stands beside the
/// per-layer SAEs and the crosscoder at matched sparsity. L0 is per layer's vector for every kind.
/// </summary>
public static class SweepFigures
{
    /// <summary>The figure files, by metric.</summary>
    public static readonly IReadOnlyDictionary<string, string> Files = new Dictionary<string, string>
    {
        ["fvu"] = "sweep_fvu_vs_l0.png", ["delta_ce_loss"] = "sweep_delta_ce_vs_l0.png",
    };

    /// <summary>Draws the figures into the sweep folder; returns the files written (none when no member has an eval).</summary>
    public static IReadOnlyList<string> Draw(Sweep sweep, IReadOnlyList<SweepMemberOutcome> outcomes, string model)
    {
        var written = new List<string>();
        foreach (var (metric, file) in Files)
        {
            var points = outcomes.Where(o => o.Outcome?.Eval?.PerLayer.ContainsKey(metric) == true && o.Outcome.Eval.PerLayer.ContainsKey("l0")).ToList();
            if (points.Count == 0) continue;
            var plot = new Plot();
            foreach (var kind in points.Select(p => p.Member.Kind).Distinct())
            {
                var ofKind = points.Where(p => p.Member.Kind == kind).OrderBy(p => p.Outcome!.Eval!.Mean("l0")).ToList();
                var scatter = plot.Add.Scatter(ofKind.Select(p => p.Outcome!.Eval!.Mean("l0")).ToArray(), ofKind.Select(p => p.Outcome!.Eval!.Mean(metric)).ToArray());
                scatter.LegendText = kind;
                scatter.MarkerSize = 9;
            }
            plot.ShowLegend();
            plot.Title($"{(metric == "fvu" ? "FVU" : "ΔCE")} vs L0, {model}: {points.Count} sweep members");
            plot.XLabel("L0 (mean over layers)");
            plot.YLabel(metric == "fvu" ? "FVU (mean over layers)" : "ΔCE loss (nats, mean over layers)");
            var path = Path.Combine(sweep.Folder, file);
            Figures.Save(plot, path, 900, 600);
            written.Add(path);
        }
        return written;
    }
}

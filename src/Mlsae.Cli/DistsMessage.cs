using Mlsae.Analysis;
using Mlsae.Evaluation;

namespace Mlsae.Cli;

/// <summary>The line <c>dists</c>, <c>dists merge</c> and <c>train</c> print after writing a dists result.</summary>
static class DistsMessage
{
    /// <summary>What was written at <paramref name="path"/> and beside it, with the summary's counts and layer_std statistics.</summary>
    public static string Wrote(string path, DistsSummary summary, bool figures) =>
        $"wrote {path} (+ .json, .csv{(figures ? ", _heatmap.png, _layer_mean.png" : "")}): {summary.Tokens:N0} tokens, {summary.ActiveLatents}/{summary.NLatents} latents active; "
        + $"layer_std mean {EvalSummary.Format(summary.LayerStdMean)}, std {EvalSummary.Format(summary.LayerStdStd)}, sem {EvalSummary.Format(summary.LayerStdSem)}";
}

using System.CommandLine;
using Mlsae.Analysis;

namespace Mlsae.Cli.Commands;

/// <summary><c>--heatmap-order</c> and <c>--heatmap-view</c>: how the latent heatmaps are drawn, the
/// reference's way by default.</summary>
static class HeatmapFlags
{
    /// <summary><c>--heatmap-order descending|ascending</c>.</summary>
    public static Option<string> Order()
    {
        var option = new Option<string>("--heatmap-order")
        {
            Description = "Heatmap columns by mean layer: descending (the reference's figures, layer 0 on top) or ascending (layer 0 at the bottom)",
            DefaultValueFactory = _ => "descending",
        };
        option.AcceptOnlyFromAmong("descending", "ascending");
        return option;
    }

    /// <summary><c>--heatmap-view probs|sums</c>.</summary>
    public static Option<string> View()
    {
        var option = new Option<string>("--heatmap-view")
        {
            Description = "Prompt heatmap cells: probs (each latent's share per layer, the reference's) or sums (activation summed over the tokens)",
            DefaultValueFactory = _ => "probs",
        };
        option.AcceptOnlyFromAmong("probs", "sums");
        return option;
    }

    /// <summary>The parsed order.</summary>
    public static HeatmapOrder OrderOf(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) == "ascending" ? HeatmapOrder.Ascending : HeatmapOrder.Descending;

    /// <summary>The parsed view.</summary>
    public static HeatmapView ViewOf(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) == "sums" ? HeatmapView.Sums : HeatmapView.Probs;
}

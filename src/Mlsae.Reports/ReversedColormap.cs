using ScottPlot;

namespace Mlsae.Reports;

/// <summary>A colormap run backwards: matplotlib's <c>magma_r</c>, the reference's heatmap colours
/// (light for 0, dark for the maximum), is <c>new ReversedColormap(new Colormaps.Magma())</c>.</summary>
sealed class ReversedColormap(IColormap inner) : IColormap
{
    public string Name => inner.Name + " (reversed)";

    public Color GetColor(double position) => inner.GetColor(1 - position);

    /// <summary>matplotlib's <c>magma_r</c>.</summary>
    public static ReversedColormap MagmaR { get; } = new(new ScottPlot.Colormaps.Magma());
}

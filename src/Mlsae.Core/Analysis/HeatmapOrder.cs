namespace Mlsae.Analysis;

/// <summary>
/// How a latent heatmap orders its columns by mean layer. <see cref="Descending"/> is the
/// reference's (<c>figures/dists_heatmaps.py</c> and <c>prompt_heatmaps.py</c> sort with
/// <c>descending=True</c>); <see cref="Ascending"/> is this tool's earlier view.
/// </summary>
public enum HeatmapOrder
{
    /// <summary>Deepest latents first, as the paper draws them.</summary>
    Descending,
    /// <summary>Shallowest latents first.</summary>
    Ascending,
}

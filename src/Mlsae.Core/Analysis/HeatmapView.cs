namespace Mlsae.Analysis;

/// <summary>What a prompt heatmap's cells show for each latent and layer.</summary>
public enum HeatmapView
{
    /// <summary>The latent's share of its activation at each layer (<c>probs</c>, each column sums to 1), as the reference's prompt heatmap.</summary>
    Probs,
    /// <summary>The activation summed over the prompt's tokens (<c>acts</c>), this tool's earlier view.</summary>
    Sums,
}

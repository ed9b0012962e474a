using Mlsae.IO;

namespace Mlsae.Analysis;

/// <summary>
/// One SAE's row of the reference's <c>figures/dists_layer_std.py</c> table: its shape and the
/// <c>get_stats</c> of its latents' <c>layer_std</c> (<see cref="LayerDistStats.Summary"/>), and the
/// same four statistics divided by the number of layers (<c>*_rel</c>; the variance too is divided by
/// L, not L², exactly as the reference computes it).
/// </summary>
/// <param name="Source">The dists file the row was read from (<c>dists</c>).</param>
/// <param name="ModelName">The model (<c>model_name</c>).</param>
/// <param name="NLayers">Layers of the SAE (<c>n_layers</c>).</param>
/// <param name="NLatents">Latents (<c>n_latents</c>).</param>
/// <param name="ExpansionFactor">Latents per input dimension (<c>expansion_factor</c>), as the dists metadata records it; empty when it does not.</param>
/// <param name="K">TopK's k (<c>k</c>), as recorded; empty when not.</param>
/// <param name="TunedLens">Whether a tuned lens was applied (<c>tuned_lens</c>).</param>
/// <param name="Mean">NaN-ignoring mean of layer_std (<c>mean</c>).</param>
/// <param name="Var">Population variance (<c>var</c>).</param>
/// <param name="Std">Standard deviation (<c>std</c>).</param>
/// <param name="Sem">Std / √F, NaN latents counted in F (<c>sem</c>).</param>
public sealed record LayerStdRow(string Source, string ModelName, int NLayers, int NLatents, string ExpansionFactor, string K, bool TunedLens,
    double Mean, double Var, double Std, double Sem)
{
    /// <summary>The CSV header: the reference's columns, then the dists file.</summary>
    public const string Header = "model_name,n_layers,n_latents,expansion_factor,k,tuned_lens,mean,var,std,sem,mean_rel,var_rel,std_rel,sem_rel,dists";

    /// <summary>mean / L (<c>mean_rel</c>).</summary>
    public double MeanRel => Mean / NLayers;
    /// <summary>var / L (<c>var_rel</c>).</summary>
    public double VarRel => Var / NLayers;
    /// <summary>std / L (<c>std_rel</c>).</summary>
    public double StdRel => Std / NLayers;
    /// <summary>sem / L (<c>sem_rel</c>).</summary>
    public double SemRel => Sem / NLayers;

    /// <summary>The row of <paramref name="dists"/>, read from <paramref name="source"/> with <paramref name="metadata"/>.</summary>
    public static LayerStdRow From(LayerDists dists, IReadOnlyDictionary<string, string> metadata, string source)
    {
        var (mean, variance, std, sem) = dists.Stats().Summary();
        return new LayerStdRow(source, metadata.GetValueOrDefault("model", ""), dists.Layers, dists.Latents,
            metadata.GetValueOrDefault("expansion_factor", ""), metadata.GetValueOrDefault("k", ""),
            metadata.GetValueOrDefault("tuned_lens", "false") == "true", mean, variance, std, sem);
    }

    /// <summary>The row as CSV (doubles in round-trip form, NaN as <c>NaN</c>, text fields quoted when they need it).</summary>
    public string ToCsv() => string.Join(",",
        CsvText.Field(ModelName), CsvText.Number(NLayers), CsvText.Number(NLatents), CsvText.Field(ExpansionFactor), CsvText.Field(K),
        TunedLens ? "True" : "False", CsvText.Number(Mean), CsvText.Number(Var), CsvText.Number(Std), CsvText.Number(Sem),
        CsvText.Number(MeanRel), CsvText.Number(VarRel), CsvText.Number(StdRel), CsvText.Number(SemRel), CsvText.Field(Source));

    /// <summary>Writes the table of <paramref name="rows"/> atomically, one row per SAE under <see cref="Header"/>.</summary>
    public static void SaveCsv(IEnumerable<LayerStdRow> rows, string path) =>
        AtomicFile.WriteText(path, Header + "\n" + string.Concat(rows.Select(r => r.ToCsv() + "\n")));
}

using Mlsae.IO;

namespace Mlsae.Analysis;

/// <summary>
/// How the <c>layer_std</c> statistics settle as <c>dists</c> reads more data, as the reference's
/// <c>mlsae/analysis/dists.py</c> logs them: after batch i (0-based) whenever i is a multiple of
/// <see cref="Every"/> (the reference's <c>log_every_n_steps</c>, 8), one row with the SAE's shape,
/// the step, the tokens read so far and the <c>get_stats</c> of the dists up to then.
/// </summary>
public sealed class LayerStdConvergence
{
    /// <summary>One logged step.</summary>
    /// <param name="Step">The batch index (<c>step</c>).</param>
    /// <param name="Tokens">Tokens read up to and including it (<c>tokens</c>).</param>
    /// <param name="Mean">layer_std mean (<c>mean</c>).</param>
    /// <param name="Var">layer_std variance (<c>var</c>).</param>
    /// <param name="Std">layer_std standard deviation (<c>std</c>).</param>
    /// <param name="Sem">layer_std standard error (<c>sem</c>).</param>
    public sealed record Row(long Step, long Tokens, double Mean, double Var, double Std, double Sem);

    /// <summary>The CSV header, the reference's columns.</summary>
    public const string Header = "model_name,n_layers,n_latents,expansion_factor,k,step,tokens,mean,var,std,sem";

    /// <summary>The reference's interval.</summary>
    public const int DefaultEvery = 8;

    readonly List<Row> rows = [];
    readonly IReadOnlyDictionary<string, string> metadata;
    int layers, latents;

    /// <summary>Rows every <paramref name="every"/> batches (positive), identified by the dists
    /// <paramref name="metadata"/> (model, expansion_factor, k).</summary>
    public LayerStdConvergence(int every, IReadOnlyDictionary<string, string> metadata)
    {
        if (every <= 0) throw new MlsaeException($"--layer-std-every must be positive (0 turns it off), got {every}");
        Every = every;
        this.metadata = metadata;
    }

    /// <summary>Batches between rows.</summary>
    public int Every { get; }

    /// <summary>The rows so far.</summary>
    public IReadOnlyList<Row> Rows => rows;

    /// <summary>Records a row when <paramref name="step"/> is a multiple of <see cref="Every"/>; <paramref name="dists"/> holds every batch up to it.</summary>
    public void Observe(long step, LayerDists dists)
    {
        if (step % Every != 0) return;
        (layers, latents) = (dists.Layers, dists.Latents);
        var (mean, variance, std, sem) = dists.Stats().Summary();
        rows.Add(new Row(step, dists.Tokens, mean, variance, std, sem));
    }

    /// <summary>Writes the rows atomically under <see cref="Header"/>.</summary>
    public void SaveCsv(string path)
    {
        var identity = string.Join(",", CsvText.Field(metadata.GetValueOrDefault("model", "")), CsvText.Number(layers), CsvText.Number(latents),
            CsvText.Field(metadata.GetValueOrDefault("expansion_factor", "")), CsvText.Field(metadata.GetValueOrDefault("k", "")));
        AtomicFile.WriteText(path, Header + "\n" + string.Concat(rows.Select(r => string.Join(",", identity, CsvText.Number(r.Step), CsvText.Number(r.Tokens),
            CsvText.Number(r.Mean), CsvText.Number(r.Var), CsvText.Number(r.Std), CsvText.Number(r.Sem)) + "\n")));
    }
}

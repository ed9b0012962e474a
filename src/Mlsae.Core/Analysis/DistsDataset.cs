using System.Text.Json;
using Mlsae.Hub;

namespace Mlsae.Analysis;

/// <summary>
/// Dists as the reference publishes them (<c>Dataset.from_generator(Dists(tensors).__iter__).push_to_hub</c>
/// in its <c>analysis/dists.py</c>): one row per latent with <c>latent</c>, <c>count</c>, <c>total</c>,
/// <c>mean</c>, <c>layer_mean</c>, <c>layer_var</c>, <c>layer_std</c> and the per-layer lists
/// <c>counts</c>, <c>totals</c>, <c>means</c>, <c>probs</c>. The reference's counts live in a float
/// tensor, so <c>.item()</c> and <c>.tolist()</c> give Python floats and Arrow infers float64 for
/// every column but <c>latent</c> (int64). Reading rebuilds counts and totals [L, F] from the lists, as its
/// <c>Dists.from_dataset</c> does; this tool's metadata, when it wrote the file, rides in the
/// Parquet metadata under <see cref="MetadataKey"/>.
/// </summary>
public static class DistsDataset
{
    /// <summary>The Parquet metadata key holding this tool's dists metadata (as JSON).</summary>
    public const string MetadataKey = "mlsae";

    /// <summary>The columns of <paramref name="dists"/>, in the reference's order.</summary>
    public static IReadOnlyList<DatasetColumn> Columns(LayerDists dists)
    {
        int L = dists.Layers, F = dists.Latents;
        var s = dists.Stats();
        double[] PerLatent(Func<int, double> value) => Enumerable.Range(0, F).Select(value).ToArray();
        double[][] PerLayer(Func<int, int, double> value) => Enumerable.Range(0, F).Select(f => Enumerable.Range(0, L).Select(l => value(l, f)).ToArray()).ToArray();
        return
        [
            DatasetColumn.Of("latent", Enumerable.Range(0, F).Select(f => (long)f).ToArray()),
            DatasetColumn.Of("count", PerLatent(f => Enumerable.Range(0, L).Sum(l => (double)dists.Count(l, f)))),
            DatasetColumn.Of("total", PerLatent(f => Enumerable.Range(0, L).Sum(l => dists.Total(l, f)))),
            DatasetColumn.Of("mean", s.Mean),
            DatasetColumn.Of("layer_mean", s.LayerMean),
            DatasetColumn.Of("layer_var", s.LayerVar),
            DatasetColumn.Of("layer_std", s.LayerStd),
            DatasetColumn.Of("counts", PerLayer((l, f) => dists.Count(l, f))),
            DatasetColumn.Of("totals", PerLayer(dists.Total)),
            DatasetColumn.Of("means", PerLayer((l, f) => s.Means[l, f])),
            DatasetColumn.Of("probs", PerLayer((l, f) => s.Probs[l, f])),
        ];
    }

    /// <summary>Writes <paramref name="folder"/>/<c>data/train-00000-of-00001.parquet</c> and the dataset card
    /// <c>README.md</c> beside it, as <c>push_to_hub</c> lays them out; returns both paths in the repo.</summary>
    public static IReadOnlyList<string> Write(LayerDists dists, IReadOnlyDictionary<string, string> metadata, string folder)
    {
        var columns = Columns(dists);
        var meta = new Dictionary<string, string>(metadata) { ["tokens"] = dists.Tokens.ToString() };
        var parquet = Path.Combine(folder, DatasetParquet.TrainFile);
        DatasetParquet.Write(parquet, columns, new Dictionary<string, string> { [MetadataKey] = JsonSerializer.Serialize(meta) });
        IO.AtomicFile.WriteText(Path.Combine(folder, DatasetCard.File), DatasetCard.Text(columns, new FileInfo(parquet).Length));
        return [DatasetParquet.TrainFile, DatasetCard.File];
    }

    /// <summary>The dists of Parquet <paramref name="shards"/> and their metadata (this tool's when it wrote them, else
    /// <c>sae</c> = <paramref name="source"/>). Rows are placed by <c>latent</c>; counts must be whole numbers.</summary>
    public static (LayerDists Dists, Dictionary<string, string> Metadata) Read(IReadOnlyList<string> shards, string source)
    {
        var (columns, fileMeta) = DatasetParquet.Read(shards);
        string where = shards[0];
        DatasetColumn Get(string name) => columns.TryGetValue(name, out var c) ? c
            : throw new MlsaeException($"{where}: no column \"{name}\" (not a dists dataset; columns: {string.Join(", ", columns.Keys)})");
        var counts = Get("counts").DoubleLists();
        var totals = Get("totals").DoubleLists();
        int F = counts.Length, L = F == 0 ? 0 : counts[0].Length;
        if (F == 0 || L == 0) throw new MlsaeException($"{where}: an empty dists table");
        var latents = columns.TryGetValue("latent", out var latent) ? Enumerable.Range(0, F).Select(i => latent.Double(i)).ToArray() : Enumerable.Range(0, F).Select(i => (double)i).ToArray();
        if (latents.Order().Select((v, i) => v == i).Contains(false))
            throw new MlsaeException($"{where}: column \"latent\" is not 0..{F - 1}, one row per latent");
        var dists = new LayerDists(L, F);
        for (int r = 0; r < F; r++)
        {
            if (counts[r].Length != L || totals[r].Length != L)
                throw new MlsaeException($"{where}: row {r} has {counts[r].Length} counts and {totals[r].Length} totals, not {L} (one per layer)");
            for (int l = 0; l < L; l++)
            {
                double c = counts[r][l];
                if (c < 0 || c != Math.Floor(c) || c > long.MaxValue) throw new MlsaeException($"{where}: row {r} count {c} at layer {l} is not a whole number");
                if (!double.IsFinite(totals[r][l])) throw new MlsaeException($"{where}: row {r} total at layer {l} is {totals[r][l]}");
                dists.Set(l, (int)latents[r], (long)c, totals[r][l]);
            }
        }
        var metadata = DatasetParquet.StringMap(fileMeta, MetadataKey, where) ?? new Dictionary<string, string> { ["sae"] = source };
        if (long.TryParse(metadata.GetValueOrDefault("tokens"), out long tokens)) dists.Tokens = tokens;
        return (dists, LayerDists.GivenMetadata(metadata));
    }

    /// <summary>Converts <paramref name="shards"/> of <paramref name="repoId"/> into this tool's dists file at <paramref name="target"/>.</summary>
    public static void Convert(IReadOnlyList<string> shards, string target, string repoId)
    {
        var (dists, metadata) = Read(shards, repoId);
        dists.Save(target, metadata);
    }

    /// <summary>A <c>--dists</c> value (a file or a dataset hub id, of this tool's or the reference's layout) as a local dists file.</summary>
    public static string Resolve(string value, string flag, Func<HubClient> hub) =>
        DatasetFile.Resolve(value, Runs.Run.DistsFile, flag, hub, fromParquet: Convert);
}

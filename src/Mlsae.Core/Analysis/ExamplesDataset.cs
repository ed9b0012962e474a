using System.Text.Json;
using Mlsae.Hub;

namespace Mlsae.Analysis;

/// <summary>
/// Examples as the reference publishes them (<c>Dataset.from_sql("SELECT * FROM examples", conn).push_to_hub</c>
/// in its <c>analysis/examples.py</c>): the rows of the <c>examples</c> table, integers as int64, <c>act</c>
/// as float64, and <c>token</c> and the JSON lists <c>token_ids</c>, <c>tokens</c>, <c>acts</c> as strings.
/// This tool's table adds <c>sequence</c>, <c>position</c> and <c>offset</c>, which <c>SELECT *</c> carries
/// along, and its metadata table rides in the Parquet metadata under <see cref="DistsDataset.MetadataKey"/>.
/// </summary>
public static class ExamplesDataset
{
    /// <summary>Writes <paramref name="folder"/>/<c>data/train-00000-of-00001.parquet</c> from the database at
    /// <paramref name="database"/> and the dataset card beside it; returns both paths in the repo.</summary>
    public static IReadOnlyList<string> Write(string database, string folder)
    {
        var metadata = ExamplesDatabase.ReadMetadata(database);
        var columns = ExamplesDatabase.Table(database);
        var parquet = Path.Combine(folder, DatasetParquet.TrainFile);
        DatasetParquet.Write(parquet, columns, new Dictionary<string, string> { [DistsDataset.MetadataKey] = JsonSerializer.Serialize(metadata) });
        IO.AtomicFile.WriteText(Path.Combine(folder, DatasetCard.File), DatasetCard.Text(columns, new FileInfo(parquet).Length));
        return [DatasetParquet.TrainFile, DatasetCard.File];
    }

    /// <summary>
    /// The rows of Parquet <paramref name="shards"/> as database rows, and the metadata. The reference's rows lack
    /// <c>sequence</c>, <c>position</c> and <c>offset</c>: the offset is found as the window token that is the
    /// example's own (its id, with the example's activation), the sequence is the row's <c>id</c> (so rows stay
    /// distinct) and the position the offset; the metadata, when this tool did not write the file, is inferred:
    /// <c>layers</c> 0..max layer (the reference's layer is a position in all of the model's layers), <c>top</c>
    /// the most rows of one (latent, layer), <c>window</c> the widest reach of a window either side, <c>sae</c> <paramref name="source"/>.
    /// </summary>
    public static (List<ExamplesDatabase.Row> Rows, Dictionary<string, string> Metadata) Read(IReadOnlyList<string> shards, string source)
    {
        var (columns, fileMeta) = DatasetParquet.Read(shards);
        string where = shards[0];
        DatasetColumn Get(string name, string dtype)
        {
            if (!columns.TryGetValue(name, out var c)) throw new MlsaeException($"{where}: no column \"{name}\" (not an examples dataset; columns: {string.Join(", ", columns.Keys)})");
            if (c.IsList || (c.Dtype != dtype && !(dtype == "float64" && c.Dtype == "int64")))
                throw new MlsaeException($"{where}: column \"{name}\" holds {(c.IsList ? "lists of " : "")}{c.Dtype}, not {dtype}");
            return c;
        }
        var latent = Get("latent", "int64"); var layer = Get("layer", "int64"); var tokenId = Get("token_id", "int64");
        var token = Get("token", "string"); var act = Get("act", "float64");
        var tokenIds = Get("token_ids", "string"); var tokens = Get("tokens", "string"); var acts = Get("acts", "string");
        bool ours = columns.ContainsKey("sequence") && columns.ContainsKey("position") && columns.ContainsKey("offset");
        var ids = columns.TryGetValue("id", out var idColumn) ? idColumn.Longs : null;
        var (offsets, sequences, positions) = ours ? (Get("offset", "int64").Longs, Get("sequence", "int64").Longs, Get("position", "int64").Longs) : (null, null, null);
        var rows = new List<ExamplesDatabase.Row>(latent.Rows);
        for (int r = 0; r < latent.Rows; r++)
        {
            long offset = offsets?[r] ?? Offset(tokenIds.Strings![r], acts.Strings![r], tokenId.Longs![r], act.Double(r), where, r);
            long sequence = sequences?[r] ?? ids?[r] ?? r;
            long position = positions?[r] ?? offset;
            rows.Add(new ExamplesDatabase.Row(latent.Longs![r], layer.Longs![r], tokenId.Longs![r], token.Strings![r], act.Double(r),
                tokenIds.Strings![r], tokens.Strings![r], acts.Strings![r], sequence, position, offset));
        }
        return (rows, DatasetParquet.StringMap(fileMeta, DistsDataset.MetadataKey, where) ?? Inferred(rows, source));
    }

    /// <summary>Converts <paramref name="shards"/> of <paramref name="repoId"/> into an examples database at <paramref name="target"/>.</summary>
    public static void Convert(IReadOnlyList<string> shards, string target, string repoId)
    {
        var (rows, metadata) = Read(shards, repoId);
        ExamplesDatabase.WriteRows(target, rows, metadata);
    }

    /// <summary>An examples value (a file or a dataset hub id, of this tool's or the reference's layout) as a local database.</summary>
    public static string Resolve(string value, string flag, Func<HubClient> hub) =>
        DatasetFile.Resolve(value, Runs.RunPush.ExamplesFile, flag, hub, fromParquet: Convert);

    /// <summary>The window index of the example's own token: the first with its id and activation, else the first with its id.</summary>
    static long Offset(string tokenIdsJson, string actsJson, long tokenId, double act, string where, int row)
    {
        long[] ids; double[] acts;
        try
        {
            ids = JsonSerializer.Deserialize<long[]>(tokenIdsJson) ?? throw new JsonException("null");
            acts = JsonSerializer.Deserialize<double[]>(actsJson) ?? throw new JsonException("null");
        }
        catch (JsonException e) { throw MlsaeException.From($"{where}: row {row}: token_ids or acts is not a JSON list of numbers", e); }
        if (ids.Length != acts.Length) throw new MlsaeException($"{where}: row {row}: {ids.Length} token_ids but {acts.Length} acts");
        int exact = Enumerable.Range(0, ids.Length).FirstOrDefault(i => ids[i] == tokenId && (float)acts[i] == (float)act, -1);
        int any = Array.IndexOf(ids, tokenId);
        return exact >= 0 ? exact : any >= 0 ? any
            : throw new MlsaeException($"{where}: row {row}: token_id {tokenId} is not in its window token_ids");
    }

    static Dictionary<string, string> Inferred(List<ExamplesDatabase.Row> rows, string source)
    {
        long maxLayer = rows.Count == 0 ? 0 : rows.Max(r => r.Layer);
        int top = rows.Count == 0 ? 1 : rows.GroupBy(r => (r.Latent, r.Layer)).Max(g => g.Count());
        long window = rows.Count == 0 ? 1 : Math.Max(1, rows.Max(r => Math.Max(r.Offset, JsonSerializer.Deserialize<long[]>(r.TokenIds)!.Length - 1 - r.Offset)));
        return new Dictionary<string, string>
        {
            ["sae"] = source, ["layers"] = string.Join(",", Enumerable.Range(0, (int)maxLayer + 1)), ["top"] = top.ToString(), ["window"] = window.ToString(),
        };
    }
}

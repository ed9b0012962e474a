using Mlsae.IO;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Mlsae.Analysis;

/// <summary>
/// Max-activating examples in SQLite with the reference's <c>examples</c> table layout (latent,
/// layer, token_id, token, act, token_ids, tokens, acts; lists as JSON) plus the example's
/// sequence index, position and offset in its window, with an index on (latent, layer). Written once to a temp file and
/// renamed.
/// </summary>
public static class ExamplesDatabase
{
    /// <summary>The <c>layer</c> of an example of a coder with one code per token for all its layers (a
    /// crosscoder): its examples are per latent, not per (latent, layer).</summary>
    public const int AllLayers = -1;

    /// <summary>The metadata key, <c>"true"</c> in a database of per-latent examples (<see cref="AllLayers"/>).</summary>
    public const string PerLatentKey = "per_latent";

    /// <summary>The layers the examples of <paramref name="coder"/> are written under: the model layers, or
    /// <see cref="AllLayers"/> alone for a coder with one code per token.</summary>
    public static IReadOnlyList<int> LayersOf(Coders.ISparseCoder coder, IReadOnlyList<int> modelLayers) => coder.CodesPerToken ? [AllLayers] : modelLayers;

    /// <summary>One row of the <c>examples</c> table (lists as JSON text), without its <c>id</c>.</summary>
    public sealed record Row(long Latent, long Layer, long TokenId, string Token, double Act, string TokenIds, string Tokens, string Acts, long Sequence, long Position, long Offset);

    /// <summary>Writes the examples (under <paramref name="layers"/>[their layer]; <c>[AllLayers]</c> marks per-latent
    /// examples in the metadata); <paramref name="decode"/> gives a token's text (the <c>token</c>
    /// column, as the reference's <c>tokenizer.decode</c>) and <paramref name="token"/> its vocabulary
    /// string (the <c>tokens</c> lists, as <c>convert_ids_to_tokens</c>).</summary>
    public static void Write(string path, IEnumerable<MaxActivatingExamples.Example> examples, Func<long, string> decode, Func<long, string> token,
        IReadOnlyList<int> layers, IReadOnlyDictionary<string, string> metadata) =>
        WriteRows(path, examples.Select(e =>
        {
            long id = e.TokenIds[e.Offset];
            return new Row(e.Latent, layers[e.Layer], id, decode(id), e.Act, JsonSerializer.Serialize(e.TokenIds), JsonSerializer.Serialize(e.TokenIds.Select(token)),
                JsonSerializer.Serialize(e.Acts), e.Sequence, e.Position, e.Offset);
        }), layers is [AllLayers] ? new Dictionary<string, string>(metadata) { [PerLatentKey] = "true" } : metadata);

    /// <summary>Writes <paramref name="rows"/> as they are (layers are model layers) with <paramref name="metadata"/>.</summary>
    public static void WriteRows(string path, IEnumerable<Row> rows, IReadOnlyDictionary<string, string> metadata)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        StaleTempFiles.Clean(full);   // those of a killed writer, with their journals
        var temp = StaleTempFiles.For(full);
        try
        {
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = temp, Pooling = false }.ToString()))
            {
                connection.Open();
                using (var create = connection.CreateCommand())
                {
                    create.CommandText = """
                        CREATE TABLE examples (id INTEGER PRIMARY KEY, latent INTEGER, layer INTEGER, token_id INTEGER, token TEXT, act REAL,
                            token_ids JSON, tokens JSON, acts JSON, sequence INTEGER, position INTEGER, offset INTEGER);
                        CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT);
                        """;
                    create.ExecuteNonQuery();
                }
                using var transaction = connection.BeginTransaction();
                using (var insert = connection.CreateCommand())
                {
                    insert.CommandText = "INSERT INTO examples (latent, layer, token_id, token, act, token_ids, tokens, acts, sequence, position, offset) VALUES ($f, $l, $id, $tok, $act, $ids, $toks, $acts, $seq, $pos, $off)";
                    var p = new[] { "$f", "$l", "$id", "$tok", "$act", "$ids", "$toks", "$acts", "$seq", "$pos", "$off" }.Select(n => insert.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
                    foreach (var r in rows)
                    {
                        p[0].Value = r.Latent; p[1].Value = r.Layer; p[2].Value = r.TokenId; p[3].Value = r.Token; p[4].Value = r.Act;
                        p[5].Value = r.TokenIds; p[6].Value = r.Tokens; p[7].Value = r.Acts; p[8].Value = r.Sequence; p[9].Value = r.Position; p[10].Value = r.Offset;
                        insert.ExecuteNonQuery();
                    }
                }
                using (var meta = connection.CreateCommand())
                {
                    meta.CommandText = "INSERT INTO metadata (key, value) VALUES ($k, $v)";
                    var k = meta.Parameters.Add(new SqliteParameter { ParameterName = "$k" });
                    var v = meta.Parameters.Add(new SqliteParameter { ParameterName = "$v" });
                    foreach (var (key, value) in metadata) { k.Value = key; v.Value = value; meta.ExecuteNonQuery(); }
                }
                using (var index = connection.CreateCommand())
                {
                    index.CommandText = "CREATE INDEX examples_latent_layer ON examples (latent, layer)";
                    index.ExecuteNonQuery();
                }
                transaction.Commit();
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Reads every example back (for merging shards), with layers mapped to positions in <paramref name="layers"/>.</summary>
    public static List<MaxActivatingExamples.Example> Read(string path, IReadOnlyList<int> layers)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        var result = new List<MaxActivatingExamples.Example>();
        var positions = layers.Select((layer, i) => (layer, i)).ToDictionary(p => p.layer, p => p.i);
        try
        {
            using var connection = OpenReadOnly(path);
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT latent, layer, act, token_ids, acts, sequence, position, offset FROM examples";
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                var ids = JsonSerializer.Deserialize<long[]>(reader.GetString(3)) ?? throw new FormatException("token_ids is null");
                var acts = JsonSerializer.Deserialize<float[]>(reader.GetString(4)) ?? throw new FormatException("acts is null");
                int position = reader.GetInt32(6), offset = reader.GetInt32(7), latent = reader.GetInt32(0);
                if (!positions.TryGetValue(reader.GetInt32(1), out int layer)) throw new MlsaeException($"{path}: layer {reader.GetInt32(1)} is not among [{string.Join(", ", layers)}]");
                if (acts.Length != ids.Length || offset < 0 || offset >= ids.Length || latent < 0 || position < 0)
                    throw new FormatException($"row with latent {latent}: {ids.Length} token_ids, {acts.Length} acts, offset {offset}, position {position}");
                result.Add(new MaxActivatingExamples.Example(latent, layer, reader.GetInt64(5), position, (float)reader.GetDouble(2), ids, acts, offset));
            }
        }
        catch (Exception e) when (e is SqliteException or JsonException or InvalidCastException or FormatException or OverflowException or InvalidOperationException)
        {
            throw MlsaeException.From($"{path}: not a readable examples database", e);
        }
        return result;
    }

    /// <summary>
    /// Every column of the <c>examples</c> table in <c>id</c> order, typed as <c>Dataset.from_sql("SELECT * FROM examples")</c>
    /// gives them (pandas reads SQLite integers as int64, reals as float64, and the JSON lists as the text they are stored as).
    /// </summary>
    public static List<Hub.DatasetColumn> Table(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        try
        {
            using var connection = OpenReadOnly(path);
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT * FROM examples ORDER BY id";
            using var reader = select.ExecuteReader();
            var types = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetDataTypeName(i).ToUpperInvariant()).ToArray();
            var values = types.Select(_ => new List<object>()).ToArray();
            while (reader.Read())
                for (int i = 0; i < types.Length; i++)
                    values[i].Add(types[i] == "INTEGER" ? reader.GetInt64(i) : types[i] == "REAL" ? reader.GetDouble(i) : reader.GetString(i));
            return Enumerable.Range(0, types.Length).Select(i => types[i] switch
            {
                "INTEGER" => Hub.DatasetColumn.Of(reader.GetName(i), values[i].Cast<long>().ToArray()),
                "REAL" => Hub.DatasetColumn.Of(reader.GetName(i), values[i].Cast<double>().ToArray()),
                _ => Hub.DatasetColumn.Of(reader.GetName(i), values[i].Cast<string>().ToArray()),
            }).ToList();
        }
        catch (Exception e) when (e is SqliteException or InvalidCastException or InvalidOperationException)
        {
            throw MlsaeException.From($"{path}: not an examples database", e);
        }
    }

    /// <summary>The database's metadata table (model, sae, layers, top, window, …).</summary>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        try
        {
            using var connection = OpenReadOnly(path);
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT key, value FROM metadata";
            using var reader = select.ExecuteReader();
            var meta = new Dictionary<string, string>();
            while (reader.Read()) meta[reader.GetString(0)] = reader.GetString(1);
            return meta;
        }
        catch (Exception e) when (e is SqliteException or InvalidCastException or InvalidOperationException)
        {
            throw MlsaeException.From($"{path}: not an examples database", e);
        }
    }

    /// <summary>Opens <paramref name="path"/> read-only; the connection string is built, never pasted, so
    /// a path with <c>;</c> or <c>=</c> names just that file.</summary>
    static SqliteConnection OpenReadOnly(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    /// <summary>The examples of one (latent, model layer), best first.</summary>
    public static List<(float Act, string Token, string[] Tokens, float[] Acts)> Select(string path, int latent, int layer)
    {
        using var connection = OpenReadOnly(path);
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT act, token, tokens, acts FROM examples WHERE latent = $f AND layer = $l ORDER BY act DESC, sequence, position";
        select.Parameters.AddWithValue("$f", latent);
        select.Parameters.AddWithValue("$l", layer);
        using var reader = select.ExecuteReader();
        var rows = new List<(float, string, string[], float[])>();
        while (reader.Read())
            rows.Add(((float)reader.GetDouble(0), reader.GetString(1), JsonSerializer.Deserialize<string[]>(reader.GetString(2))!,
                JsonSerializer.Deserialize<float[]>(reader.GetString(3))!));
        return rows;
    }
}

using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Mlsae.Explorer;

/// <summary>
/// Read-only queries of an examples database (the <c>examples</c> command's SQLite file) for the
/// explorer. Every connection opens the file read-only, and only the one file given at start-up:
/// requests pass numbers and token text as parameters, never names.
/// </summary>
public sealed class ExamplesQueries
{
    /// <summary>One stored example.</summary>
    /// <param name="Layer">The model layer.</param>
    /// <param name="Act">The activation at the token.</param>
    /// <param name="TokenIds">The window's ids.</param>
    /// <param name="Acts">The latent's activation at each window token.</param>
    /// <param name="Offset">The token's index in the window.</param>
    public sealed record Example(int Layer, float Act, long[] TokenIds, float[] Acts, int Offset);

    /// <summary>A latent that fires on a token, with how often and how strongly among the stored examples.</summary>
    public sealed record TokenHit(int Latent, long Examples, double MaxAct);

    readonly string connectionString;

    /// <summary>The database at <paramref name="path"/>; an error naming it when it is missing or not an examples database.</summary>
    public ExamplesQueries(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"--examples: {path}: file not found");
        connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        Path = path;
        try
        {
            using var connection = Open();
            using var check = connection.CreateCommand();
            check.CommandText = "SELECT latent, layer, act, token_ids, acts, offset FROM examples LIMIT 1";
            using var reader = check.ExecuteReader();
            reader.Read();
        }
        catch (SqliteException e)
        {
            throw MlsaeException.From($"--examples: {path}: not an examples database", e);
        }
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Every stored example of <paramref name="latent"/>, best first within each layer, layers in order.</summary>
    public List<Example> OfLatent(int latent)
    {
        using var connection = Open();
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT layer, act, token_ids, acts, offset FROM examples WHERE latent = $f ORDER BY layer, act DESC, sequence, position";
        select.Parameters.AddWithValue("$f", latent);
        using var reader = select.ExecuteReader();
        var rows = new List<Example>();
        while (reader.Read())
            rows.Add(new Example(reader.GetInt32(0), (float)reader.GetDouble(1), JsonSerializer.Deserialize<long[]>(reader.GetString(2)) ?? [],
                JsonSerializer.Deserialize<float[]>(reader.GetString(3)) ?? [], reader.GetInt32(4)));
        return rows;
    }

    /// <summary>The latents with the most stored examples on a token whose text (or text without
    /// surrounding whitespace) is <paramref name="token"/>, or whose id it is.</summary>
    public List<TokenHit> ByToken(string token, int limit)
    {
        using var connection = Open();
        using var select = connection.CreateCommand();
        select.CommandText = """
            SELECT latent, COUNT(*), MAX(act) FROM examples
            WHERE token = $t OR trim(token) = $t OR token_id = $id
            GROUP BY latent ORDER BY COUNT(*) DESC, MAX(act) DESC, latent LIMIT $n
            """;
        select.Parameters.AddWithValue("$t", token);
        select.Parameters.AddWithValue("$id", long.TryParse(token, out var id) ? id : -1);
        select.Parameters.AddWithValue("$n", limit);
        using var reader = select.ExecuteReader();
        var hits = new List<TokenHit>();
        while (reader.Read()) hits.Add(new TokenHit(reader.GetInt32(0), reader.GetInt64(1), reader.GetDouble(2)));
        return hits;
    }

    /// <summary>Per latent, the text of its single most activating stored token (for search and labels).</summary>
    public Dictionary<int, string> TopTokens()
    {
        using var connection = Open();
        using var select = connection.CreateCommand();
        // SQLite's bare-column rule: with MAX(act), token comes from the row holding the maximum.
        select.CommandText = "SELECT latent, token, MAX(act) FROM examples GROUP BY latent";
        using var reader = select.ExecuteReader();
        var tokens = new Dictionary<int, string>();
        while (reader.Read()) tokens[reader.GetInt32(0)] = reader.GetString(1);
        return tokens;
    }
}

using System.Text.Json.Nodes;
using Mlsae.Tests.Serve;
using Xunit;

namespace Mlsae.Tests.Distributed;

/// <summary><c>eval</c>, <c>test</c>, <c>variances</c> and <c>examples</c> under MPI: the ranks share
/// the batches (j mod N) and rank 0 writes the merge, the same bytes as one process over all the
/// batches (the SAE is the explorer tests' tiny run; 16 batches of 2 × 32 tokens, so 3 ranks
/// get unequal shares).</summary>
[Collection(ServeCollection.Name)]
public sealed class MpiAnalysesTests(ServeFixture serve)
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    string[] Common => ["--sae", serve.RunFolder, "--max-tokens", "1024", "--batch-size", "2"];

    (string One, string Spread) Both(MpiJob.Launcher launcher, int ranks, string command, string extension, params string[] extra)
    {
        var dir = Fixtures.TempDir();
        string one = Path.Combine(dir, "one" + extension), spread = Path.Combine(dir, "mpi" + extension);
        var alone = MpiJob.RunAlone(Timeout, [command, .. Common, .. extra, "--out", one]);
        Assert.True(alone.ExitCode == 0, alone.ToString());
        var job = MpiJob.Run(launcher, ranks, Timeout, [command, .. Common, .. extra, "--out", spread, "--threads-per-rank", "1"]);
        Assert.True(job.ExitCode == 0, job.ToString());
        Assert.Contains($"distributed: {ranks} ranks", job.Error);
        return (one, spread);
    }

    [Theory]
    [InlineData("openmpi", 2)]
    [InlineData("mpich", 3)]
    public void EvalOverRanks_WritesOneProcesssJson(string family, int ranks)
    {
        if (MpiJob.Require(family) is not { } launcher) return;
        var (one, spread) = Both(launcher, ranks, "eval", ".json");
        Assert.Equal(File.ReadAllText(one), File.ReadAllText(spread));
        var json = JsonNode.Parse(File.ReadAllText(spread))!;
        Assert.Equal(16, json["batches"]!.GetValue<int>());            // every batch, once
        Assert.Equal(1024, json["tokens"]!.GetValue<long>());
        Assert.NotNull(json["delta_ce_loss"]);
    }

    [Theory]
    [InlineData("openmpi", 2)]
    public void TestVariancesAndExamplesOverRanks_AreOneProcesssFiles(string family, int ranks)
    {
        if (MpiJob.Require(family) is not { } launcher) return;
        var (oneCsv, spreadCsv) = Both(launcher, ranks, "test", ".csv");
        Assert.Equal(File.ReadAllText(oneCsv), File.ReadAllText(spreadCsv));
        Assert.Equal(2, File.ReadAllLines(spreadCsv).Length);          // the header and one row, appended once
        var (oneVar, spreadVar) = Both(launcher, ranks, "variances", ".json");
        Assert.Equal(File.ReadAllText(oneVar), File.ReadAllText(spreadVar));
        var (oneDb, spreadDb) = Both(launcher, ranks, "examples", ".db", "--top", "4");
        Assert.Equal(Dump(oneDb), Dump(spreadDb));
        Assert.NotEmpty(Dump(spreadDb));
    }

    // Every row of every table, in a fixed order (the file bytes may differ in SQLite's page layout).
    static List<string> Dump(string path)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
            using var reader = list.ExecuteReader();
            while (reader.Read()) tables.Add(reader.GetString(0));
        }
        var rows = new List<string>();
        foreach (var table in tables)
        {
            using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\"";
            using var reader = select.ExecuteReader();
            var table_rows = new List<string>();
            while (reader.Read())
                table_rows.Add(table + ": " + string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : reader.GetValue(i) is byte[] b ? Convert.ToHexString(b) : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            table_rows.Sort(StringComparer.Ordinal);
            rows.AddRange(table_rows);
        }
        return rows;
    }
}

using System.Text.Json.Serialization;
using Mlsae.Analysis;
using Mlsae.Hub;
using Mlsae.Tests.Hub;
using Parquet;
using Parquet.Serialization;
using Xunit;

namespace Mlsae.Tests.Analysis;

public class ExamplesDatasetTests
{
    /// <summary>A row of the reference's <c>examples</c> table as <c>Dataset.from_sql</c> types it (lists as JSON text),
    /// written here through Parquet.Net's own object serializer (not the code under test).</summary>
    public sealed class ReferenceRow
    {
        [JsonPropertyName("id")] public long? Id { get; set; }
        [JsonPropertyName("latent")] public long? Latent { get; set; }
        [JsonPropertyName("layer")] public long? Layer { get; set; }
        [JsonPropertyName("token_id")] public long? TokenId { get; set; }
        [JsonPropertyName("token")] public string? Token { get; set; }
        [JsonPropertyName("act")] public double? Act { get; set; }
        [JsonPropertyName("token_ids")] public string? TokenIds { get; set; }
        [JsonPropertyName("tokens")] public string? Tokens { get; set; }
        [JsonPropertyName("acts")] public string? Acts { get; set; }
    }

    [Fact]
    public async Task ARepoWithOnlyTheReferencesParquetLoadsAsAnExamplesDatabase()
    {
        var repo = Fixtures.TempDir();
        Directory.CreateDirectory(Path.Combine(repo, "data"));
        // The reference's windows are pos-n..pos+n-1 (n = 2): the token itself sits at index 2, unless an
        // earlier token of the window has the same id (row 2), where the activation tells them apart.
        var rows = new List<ReferenceRow>
        {
            new() { Id = 7, Latent = 5, Layer = 1, TokenId = 30, Token = " c", Act = 2.5, TokenIds = "[10, 20, 30, 40]", Tokens = "[\"Ġa\", \"Ġb\", \"Ġc\", \"Ġd\"]", Acts = "[0.0, 0.5, 2.5, 0.0]" },
            new() { Id = 9, Latent = 5, Layer = 1, TokenId = 20, Token = " b", Act = 1.25, TokenIds = "[20, 11, 20, 12]", Tokens = "[\"Ġb\", \"x\", \"Ġb\", \"y\"]", Acts = "[0.75, 0.0, 1.25, 0.0]" },
            new() { Id = 12, Latent = 2, Layer = 0, TokenId = 40, Token = " d", Act = 0.5, TokenIds = "[30, 40]", Tokens = "[\"Ġc\", \"Ġd\"]", Acts = "[0.0, 0.5]" },
        };
        await ParquetSerializer.SerializeAsync(rows, Path.Combine(repo, "data", "train-00000-of-00001.parquet"));
        using var hub = new LoopbackHub("tim-lawson/tiny-examples", repo);
        using var client = hub.Client(new HubCache(Fixtures.TempDir()));

        var db = ExamplesDataset.Resolve("tim-lawson/tiny-examples", "examples merge", () => client);
        var meta = ExamplesDatabase.ReadMetadata(db);
        Assert.Equal("0,1", meta["layers"]);
        Assert.Equal("2", meta["top"]);
        Assert.Equal("2", meta["window"]);
        Assert.Equal("tim-lawson/tiny-examples", meta["sae"]);
        var read = ExamplesDatabase.Read(db, [0, 1]).OrderBy(e => e.Sequence).ToList();
        Assert.Equal([7L, 9L, 12L], read.Select(e => e.Sequence));
        Assert.Equal([2, 2, 1], read.Select(e => e.Offset));
        Assert.Equal([5, 5, 2], read.Select(e => e.Latent));
        Assert.Equal([1, 1, 0], read.Select(e => e.Layer));
        Assert.Equal([10L, 20, 30, 40], read[0].TokenIds);
        Assert.Equal([0.75f, 0f, 1.25f, 0f], read[1].Acts);
        var best = ExamplesDatabase.Select(db, latent: 5, layer: 1);
        Assert.Equal([2.5f, 1.25f], best.Select(b => b.Act));
        Assert.Equal(" c", best[0].Token);
        Assert.Equal(["Ġa", "Ġb", "Ġc", "Ġd"], best[0].Tokens);
        // The converted database merges like any shard.
        var (merged, _, layers) = ShardMerge.Examples([db]);
        Assert.Equal([0, 1], layers);
        Assert.Equal(3, merged.All().Count());
    }

    [Fact]
    public async Task OurParquetHoldsTheWholeTableAndReadsBackToTheSameRows()
    {
        var run = Mlsae.Tests.Runs.PushFixture.Create();
        var db = Path.Combine(run, Mlsae.Runs.RunPush.ExamplesFile);
        var folder = Fixtures.TempDir();
        Assert.Equal(["data/train-00000-of-00001.parquet", "README.md"], ExamplesDataset.Write(db, folder));
        var path = Path.Combine(folder, "data", "train-00000-of-00001.parquet");
        using (var stream = File.OpenRead(path))
        {
            await using var reader = await ParquetReader.CreateAsync(stream);
            // SELECT * of our table: the reference's columns in its order, then ours; types as pandas reads SQLite.
            Assert.Equal(["id", "latent", "layer", "token_id", "token", "act", "token_ids", "tokens", "acts", "sequence", "position", "offset"],
                reader.Schema.GetDataFields().Select(f => f.Name));
            Assert.Equal([typeof(long), typeof(long), typeof(long), typeof(long), typeof(string), typeof(double), typeof(string), typeof(string), typeof(string), typeof(long), typeof(long), typeof(long)],
                reader.Schema.GetDataFields().Select(f => f.ClrType == typeof(ReadOnlyMemory<char>) ? typeof(string) : f.ClrType));
        }
        var reference = (await ParquetSerializer.DeserializeAsync<ReferenceRow>(path)).Data;
        var only = Assert.Single(reference);
        Assert.Equal((3L, 0L, 2L, "t2", 1.5, "[1,2,3]", "[\"T1\",\"T2\",\"T3\"]"), (only.Latent!.Value, only.Layer!.Value, only.TokenId!.Value, only.Token, only.Act!.Value, only.TokenIds, only.Tokens));
        Assert.Contains("  - name: token_ids\n    dtype: string\n", File.ReadAllText(Path.Combine(folder, "README.md")));

        var (rows, meta) = ExamplesDataset.Read([path], "unused");
        Assert.Equal(ExamplesDatabase.ReadMetadata(db), meta);
        var back = Path.Combine(Fixtures.TempDir(), "back.db");
        ExamplesDatabase.WriteRows(back, rows, meta);
        Assert.Equal(ExamplesDatabase.Read(db, [0, 2]), ExamplesDatabase.Read(back, [0, 2]), new ExampleComparer());
    }

    sealed class ExampleComparer : IEqualityComparer<MaxActivatingExamples.Example>
    {
        public bool Equals(MaxActivatingExamples.Example? a, MaxActivatingExamples.Example? b) =>
            a is not null && b is not null && a with { TokenIds = [], Acts = [] } == b with { TokenIds = [], Acts = [] }
            && a.TokenIds.SequenceEqual(b.TokenIds) && a.Acts.SequenceEqual(b.Acts);
        public int GetHashCode(MaxActivatingExamples.Example e) => e.Latent;
    }
}

using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mlsae.Analysis;
using Mlsae.Hub;
using Mlsae.Tests.Hub;
using Parquet;
using Parquet.Serialization;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

public class DistsDatasetTests
{
    /// <summary>A row as the reference's <c>Dists.__iter__</c> yields it, read and written here through Parquet.Net's
    /// own object serializer (not the code under test).</summary>
    public sealed class ReferenceRow
    {
        [JsonPropertyName("latent")] public long? Latent { get; set; }
        [JsonPropertyName("count")] public double? Count { get; set; }
        [JsonPropertyName("total")] public double? Total { get; set; }
        [JsonPropertyName("mean")] public double? Mean { get; set; }
        [JsonPropertyName("layer_mean")] public double? LayerMean { get; set; }
        [JsonPropertyName("layer_var")] public double? LayerVar { get; set; }
        [JsonPropertyName("layer_std")] public double? LayerStd { get; set; }
        [JsonPropertyName("counts")] public List<double?>? Counts { get; set; }
        [JsonPropertyName("totals")] public List<double?>? Totals { get; set; }
        [JsonPropertyName("means")] public List<double?>? Means { get; set; }
        [JsonPropertyName("probs")] public List<double?>? Probs { get; set; }
    }

    static readonly string[] ReferenceColumns = ["latent", "count", "total", "mean", "layer_mean", "layer_var", "layer_std", "counts", "totals", "means", "probs"];

    /// <summary>L 2, F 3, two tokens with K 1: layer 0 picks latent 0 (1.5) then 2 (0.5); layer 1 picks latent 0 (0.5, 2.0).</summary>
    static LayerDists HandDists()
    {
        var dists = new LayerDists(2, 3);
        using var scope = NewDisposeScope();
        dists.Add(tensor(new float[] { 1.5f, 0.5f, 0.5f, 2.0f }, [2, 1, 2, 1]), tensor(new long[] { 0, 2, 0, 0 }, [2, 1, 2, 1]));
        return dists;
    }

    [Fact]
    public async Task TheParquetHasTheReferencesColumnsTypesRowsAndValues()
    {
        var folder = Fixtures.TempDir();
        var written = DistsDataset.Write(HandDists(), new Dictionary<string, string> { ["model"] = "m" }, folder);
        Assert.Equal(["data/train-00000-of-00001.parquet", "README.md"], written);
        var path = Path.Combine(folder, "data", "train-00000-of-00001.parquet");

        using (var stream = File.OpenRead(path))
        {
            await using var reader = await ParquetReader.CreateAsync(stream);
            // Arrow's layout: every column optional, lists as list/element, int64 only for latent.
            Assert.Equal(ReferenceColumns, reader.Schema.Fields.Select(f => f.Name));
            var data = reader.Schema.GetDataFields();
            Assert.All(data, f => Assert.True(f.IsNullable, f.Name));
            Assert.Equal([typeof(long), .. Enumerable.Repeat(typeof(double), 10)], data.Select(f => f.ClrType));
            Assert.Equal([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1], data.Select(f => f.MaxRepetitionLevel));
            Assert.All(data.Skip(7), f => Assert.Equal(["list", "element"], f.Path.ToList().Skip(1)));
            var features = JsonNode.Parse(reader.CustomMetadata["huggingface"])!["info"]!["features"]!;
            Assert.Equal("int64", features["latent"]!["dtype"]!.GetValue<string>());
            Assert.Equal("Sequence", features["counts"]!["_type"]!.GetValue<string>());
            Assert.Equal("float64", features["counts"]!["feature"]!["dtype"]!.GetValue<string>());
        }

        var rows = (await ParquetSerializer.DeserializeAsync<ReferenceRow>(path)).Data;
        Assert.Equal(3, rows.Count);
        Assert.Equal([0L, 1L, 2L], rows.Select(r => r.Latent!.Value));
        // Latent 0: counts [1, 2], totals [1.5, 2.5]; probs [0.375, 0.625].
        var r0 = rows[0];
        Assert.Equal([1.0, 2.0], D(r0.Counts));
        Assert.Equal([1.5, 2.5], D(r0.Totals));
        Assert.Equal(3.0, r0.Count);
        Assert.Equal(4.0, r0.Total);
        Assert.Equal(4.0 / (3 + 1e-8), r0.Mean!.Value, 12);
        Assert.Equal([1.5 / (1 + 1e-8), 2.5 / (2 + 1e-8)], D(r0.Means));
        Assert.Equal([0.375, 0.625], D(r0.Probs));
        Assert.Equal(0.625, r0.LayerMean!.Value, 12);
        Assert.Equal(0.625 - 0.625 * 0.625, r0.LayerVar!.Value, 12);
        Assert.Equal(Math.Sqrt(0.625 - 0.625 * 0.625), r0.LayerStd!.Value, 12);
        // Latent 1 never fired: zero counts, NaN probabilities and layer statistics, as 0/0 in the reference.
        Assert.Equal([0.0, 0.0], D(rows[1].Counts));
        Assert.Equal(0.0, rows[1].Mean);
        Assert.True(double.IsNaN(rows[1].LayerMean!.Value) && D(rows[1].Probs).All(double.IsNaN));
        // Latent 2 fired once at layer 0.
        Assert.Equal([1.0, 0.0], D(rows[2].Counts));
        Assert.Equal([1.0, 0.0], D(rows[2].Probs));
        Assert.Equal(0.0, rows[2].LayerVar);

        var card = File.ReadAllText(Path.Combine(folder, "README.md"));
        Assert.StartsWith("---\ndataset_info:\n  features:\n  - name: latent\n    dtype: int64\n  - name: count\n    dtype: float64\n", card);
        Assert.Contains("  - name: counts\n    sequence: float64\n", card);
        Assert.Contains($"  splits:\n  - name: train\n    num_bytes: {3 * 7 * 8 + 4 * (4 * 4 + 3 * 2 * 8)}\n    num_examples: 3\n", card);
        Assert.Contains($"  download_size: {new FileInfo(path).Length}\n", card);
        Assert.EndsWith("configs:\n- config_name: default\n  data_files:\n  - split: train\n    path: data/train-*\n---\n", card);
    }

    static double[] D(List<double?>? list) => list!.Select(v => v!.Value).ToArray();

    /// <summary>A reference row with its per-layer lists; the derived columns hold placeholders (reading ignores them).</summary>
    static ReferenceRow Row(long latent, List<double?> counts, List<double?> totals) => new()
    {
        Latent = latent, Count = 0, Total = 0, Mean = 0, LayerMean = 0, LayerVar = 0, LayerStd = 0,
        Counts = counts, Totals = totals, Means = [.. counts.Select(_ => (double?)0)], Probs = [.. counts.Select(_ => (double?)0)],
    };

    [Theory]
    [InlineData("data/train-00000-of-00001.parquet")]
    [InlineData("data/train-00000-of-00001-5f1a2b3c4d5e6f70.parquet")]   // older datasets add a fingerprint; found through the listing
    public async Task ARepoWithOnlyTheReferencesParquetLoadsAsDists(string shard)
    {
        var repo = Fixtures.TempDir();
        Directory.CreateDirectory(Path.Combine(repo, "data"));
        var rows = new List<ReferenceRow>
        {
            Row(1, [0, 4], [0, 3.25]),
            Row(0, [2, 1], [1.5, 0.125]),
        };
        await ParquetSerializer.SerializeAsync(rows, Path.Combine(repo, shard));
        File.WriteAllText(Path.Combine(repo, "README.md"), "---\n---\n");
        using var hub = new LoopbackHub("tim-lawson/tiny-dists", repo);
        using var client = hub.Client(new HubCache(Fixtures.TempDir()));

        var path = DistsDataset.Resolve("tim-lawson/tiny-dists", "--dists", () => client);
        var (dists, metadata) = LayerDists.Load(path);
        Assert.Equal((2, 2), (dists.Layers, dists.Latents));
        Assert.Equal([2L, 0L, 1L, 4L], new[] { dists.Count(0, 0), dists.Count(0, 1), dists.Count(1, 0), dists.Count(1, 1) });
        Assert.Equal([1.5, 0, 0.125, 3.25], new[] { dists.Total(0, 0), dists.Total(0, 1), dists.Total(1, 0), dists.Total(1, 1) });
        Assert.Equal("tim-lawson/tiny-dists", metadata["sae"]);
        // Converted once per commit: a second resolve reuses the file.
        Assert.Equal(path, DistsDataset.Resolve("tim-lawson/tiny-dists", "--dists", () => client));
    }

    [Fact]
    public void OurOwnParquetReadsBackWithItsMetadata()
    {
        var folder = Fixtures.TempDir();
        var original = HandDists();
        DistsDataset.Write(original, new Dictionary<string, string> { ["model"] = "m", ["layers"] = "3,5" }, folder);
        var (dists, metadata) = DistsDataset.Read([Path.Combine(folder, "data", "train-00000-of-00001.parquet")], "unused");
        Assert.Equal("m", metadata["model"]);
        Assert.Equal("3,5", metadata["layers"]);
        Assert.Equal(original.Tokens, dists.Tokens);
        for (int l = 0; l < 2; l++)
            for (int f = 0; f < 3; f++)
                Assert.Equal((original.Count(l, f), original.Total(l, f)), (dists.Count(l, f), dists.Total(l, f)));
    }

    [Fact]
    public async Task ATableThatIsNotDistsIsAOneLineErrorNamingTheFile()
    {
        var path = Path.Combine(Fixtures.TempDir(), "x.parquet");
        await ParquetSerializer.SerializeAsync(new List<ReferenceRow> { Row(0, [0.5], [1]) }, path);
        var e = Assert.Throws<MlsaeException>(() => DistsDataset.Read([path], "x"));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a whole number", e.Message);
        File.WriteAllText(path, "not parquet");
        Assert.Contains("corrupt Parquet file", Assert.Throws<MlsaeException>(() => DistsDataset.Read([path], "x")).Message);
    }
}

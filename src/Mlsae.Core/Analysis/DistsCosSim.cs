using System.Text.Json.Nodes;
using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// The reference's <c>figures/dists_cos_sim_heatmaps.py</c>: for every pair of distinct latents that
/// fired, the difference of their mean layers against the cosine similarity of their decoder
/// vectors, as a 2-D histogram (64 × 512 bins over <c>[0, L−1] × [−0.25, 0.25]</c>, NumPy's
/// <c>histogram2d</c> rules, see <see cref="Histogram"/>). Each unordered pair counts once with
/// <c>x = |Δ mean layer|</c>: the reference sorts latents by mean layer descending and takes the upper
/// triangle, which is the same set of differences. Two departures, both documented: the reference
/// reorders the decoder columns but not the mean layers, so its x and y come from different pairs
/// (here both come from the same pair); and it fixes the x range at (0, 5), i.e. L−1 for its 6-layer
/// Pythia-70m, where here it is L−1 of the dists given.
/// </summary>
/// <param name="XEdges">Bin edges of the mean-layer difference. // [65]</param>
/// <param name="YEdges">Bin edges of the cosine similarity. // [513]</param>
/// <param name="Counts">Pairs per (x bin, y bin). // [64, 512]</param>
/// <param name="ActiveLatents">Latents with a mean layer (fired at least once).</param>
/// <param name="Pairs">Pairs of them, A·(A−1)/2.</param>
public sealed record DistsCosSim(double[] XEdges, double[] YEdges, long[,] Counts, int ActiveLatents, long Pairs)
{
    /// <summary>Bins of the mean-layer difference, as the reference.</summary>
    public const int XBins = 64;
    /// <summary>Bins of the cosine similarity, as the reference.</summary>
    public const int YBins = 512;
    /// <summary>The reference's cosine-similarity range is ±this.</summary>
    public const double DefaultCosRange = 0.25;

    /// <summary>Pairs inside both ranges (the sum of <see cref="Counts"/>).</summary>
    public long PairsInRange => Counts.Cast<long>().Sum();

    /// <summary>
    /// Histograms the pairs of <paramref name="decoder"/>'s latents whose <paramref name="layerMean"/>
    /// is not NaN, over <paramref name="layers"/> layers, in chunks of <paramref name="chunk"/> rows so
    /// memory stays at chunk · F. // decoder [F, D], layerMean [F]
    /// </summary>
    public static DistsCosSim Compute(Tensor decoder, double[] layerMean, int layers, double cosRange = DefaultCosRange, int chunk = 1024)
    {
        Tensors.Shapes.Check(decoder, "decoder", layerMean.Length, -1);
        if (!(cosRange > 0)) throw new MlsaeException($"--cos-range must be positive, got {cosRange}");
        var xEdges = Histogram.Edges(XBins, 0, layers - 1);
        var yEdges = Histogram.Edges(YBins, -cosRange, cosRange);
        var active = Enumerable.Range(0, layerMean.Length).Where(f => !double.IsNaN(layerMean[f])).Select(f => (long)f).ToArray();
        var counts = new long[XBins, YBins];
        int a = active.Length;
        if (a >= 2)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var w = decoder.detach().to(ScalarType.Float32).index_select(0, tensor(active));
            w = w / w.norm(1, keepdim: true).clamp_min(1e-8);                                     // [A, D], the reference's normalize
            var means = tensor(active.Select(f => layerMean[f]).ToArray());                         // [A] float64
            var xs = tensor(xEdges);
            var ys = tensor(yEdges);
            var total = zeros(XBins * YBins, ScalarType.Int64);
            for (long start = 0; start < a; start += chunk)
            {
                using var inner = NewDisposeScope();
                long rows = Math.Min(chunk, a - start);
                var y = w.narrow(0, start, rows).mm(w.t()).to(ScalarType.Float64);                 // [c, A]
                var x = (means.narrow(0, start, rows).unsqueeze(1) - means.unsqueeze(0)).abs();      // [c, A]
                var upper = arange(a).unsqueeze(0) > arange(start, start + rows).unsqueeze(1);     // j > i: each pair once, no self-pairs
                var keep = upper & InRange(x, xEdges) & InRange(y, yEdges);
                var cell = BinOf(x, xs, XBins) * YBins + BinOf(y, ys, YBins);
                total.add_(bincount(cell.masked_select(keep), minlength: XBins * YBins));
            }
            var flat = total.data<long>().ToArray();
            for (int i = 0; i < XBins; i++)
                for (int j = 0; j < YBins; j++) counts[i, j] = flat[i * YBins + j];
        }
        return new DistsCosSim(xEdges, yEdges, counts, a, (long)a * (a - 1) / 2);
    }

    static Tensor InRange(Tensor v, double[] edges) => v.ge(edges[0]) & v.le(edges[^1]);

    /// <summary>NumPy's bin: the last edge ≤ v, with v at the top edge in the last bin.</summary>
    static Tensor BinOf(Tensor v, Tensor edges, int bins) => (searchsorted(edges, v, right: true) - 1).clamp(0, bins - 1);

    /// <summary>Writes <c>x_edges</c>, <c>y_edges</c>, <c>counts</c> (one row of y bins per x bin), the pair counts and <paramref name="metadata"/>, atomically, as one compact line.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string> metadata)
    {
        var rows = new JsonArray();
        for (int i = 0; i < XBins; i++)
            rows.Add(new JsonArray(Enumerable.Range(0, YBins).Select(j => (JsonNode?)Counts[i, j]).ToArray()));
        var json = new JsonObject
        {
            ["active_latents"] = ActiveLatents, ["pairs"] = Pairs, ["pairs_in_range"] = PairsInRange,
            ["x"] = "abs_mean_layer_difference", ["y"] = "decoder_cos_sim",
            ["x_edges"] = new JsonArray(XEdges.Select(v => (JsonNode?)v).ToArray()),
            ["y_edges"] = new JsonArray(YEdges.Select(v => (JsonNode?)v).ToArray()),
            ["counts"] = rows,
        };
        foreach (var (k, v) in metadata) json[k] ??= v;
        AtomicFile.WriteText(path, json.ToJsonString() + "\n");            // compact: 32,768 counts
    }
}

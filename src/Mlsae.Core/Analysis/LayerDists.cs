using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// How each latent's TopK activations are distributed over layers (the reference's
/// <c>mlsae/analysis/dists.py</c>): per layer and latent, how many (token, TopK slot) pairs picked
/// the latent (<c>counts</c>) and the sum of their raw, pre-ReLU values (<c>totals</c>). Totals
/// are accumulated as 128-bit fixed point (64 fractional bits) with every value converted on its
/// own, so sums do not depend on order: shards of the data merge into exactly the file one run
/// over all of it writes.
/// </summary>
public sealed class LayerDists
{
    /// <summary>Fractional bits of the fixed-point totals.</summary>
    const int FractionBits = 64;
    static readonly double Scale = Math.Pow(2, FractionBits);

    readonly long[] counts;
    readonly Int128[] totals;
    readonly long[] density;                                                    // [F, ActivationDensity.Bins]

    /// <summary>Layers (rows).</summary>
    public int Layers { get; }
    /// <summary>Latents (columns).</summary>
    public int Latents { get; }
    /// <summary>Token positions added.</summary>
    public long Tokens { get; internal set; }
    /// <summary>Whether <see cref="Density"/> holds data: batches were added, or the file had it (the
    /// reference's dists and files written before it have none).</summary>
    public bool HasDensity { get; private set; }

    /// <summary>A crosscoder's decoder-norm share of each latent per layer (<c>‖d_l‖ / Σ_l' ‖d_l'‖</c>), saved as
    /// <c>decoder_norm_share</c> beside the data's shares; null for the other kinds and for files without it. // [L, F]</summary>
    public double[,]? DecoderShare
    {
        get => decoderShare;
        set
        {
            if (value is not null && (value.GetLength(0) != Layers || value.GetLength(1) != Latents))
                throw new ArgumentException($"decoder share [{value.GetLength(0)}, {value.GetLength(1)}] for dists of [{Layers}, {Latents}]", nameof(value));
            decoderShare = value;
        }
    }
    double[,]? decoderShare;

    /// <summary>The accumulators themselves, for an exact sum over MPI ranks (Distributed/DistsReduction).</summary>
    internal (long[] Counts, Int128[] Totals, long[] Density) Cells => (counts, totals, density);

    /// <summary>An empty accumulator.</summary>
    public LayerDists(int layers, int latents)
    {
        Layers = layers;
        Latents = latents;
        counts = new long[layers * latents];
        totals = new Int128[layers * latents];
        density = new long[latents * ActivationDensity.Bins];
    }

    /// <summary>Adds one batch of TopK values and indices. // [L, B, T, K] each</summary>
    public void Add(Tensor values, Tensor indices)
    {
        Tensors.Shapes.Check(values, "topk values", Layers, -1, -1, -1);
        var v = values.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var i = indices.to(ScalarType.Int64).cpu().contiguous().data<long>().ToArray();
        long perLayer = v.Length / Layers;
        for (int l = 0; l < Layers; l++)
            for (long j = l * perLayer; j < (l + 1) * perLayer; j++)
            {
                int cell = l * Latents + (int)i[j];
                counts[cell]++;
                totals[cell] += ToFixed(v[j]);
                if (v[j] > 0) density[i[j] * ActivationDensity.Bins + ActivationDensity.Bin(v[j])]++;
            }
        Tokens += values.shape[1] * values.shape[2];
        HasDensity = true;
    }

    /// <summary>
    /// Reads <paramref name="session"/>'s batches into new dists, feeding <paramref name="convergence"/>
    /// (when given) after every batch. An error when the data holds no full sequence.
    /// </summary>
    public static LayerDists Compute(AnalysisSession session, Runs.IRunObserver observer, LayerStdConvergence? convergence = null)
    {
        var dists = new LayerDists(session.Model.Layers.Length, session.Sae.NLatents)
        {
            DecoderShare = (session.Sae as Coders.Crosscoder.AcausalCrosscoder)?.DecoderNormShare(),
        };
        long step = 0;
        session.Encode("dists", observer, (_, output) =>
        {
            dists.Add(output.TopKRaw, output.TopK.Indices);
            convergence?.Observe(step++, dists);
        });
        if (dists.Tokens == 0) throw new MlsaeException("dists: no data (the source holds no full sequence)");
        return dists;
    }

    static Int128 ToFixed(double value) => (Int128)(value * Scale);

    static double ToDouble(Int128 value) => (double)value / Scale;

    /// <summary>Sets one cell from a table that holds counts and totals as plain numbers (the
    /// reference's <c>-dists</c> datasets); the total is converted to fixed point like any added value.</summary>
    internal void Set(int layer, int latent, long count, double total)
    {
        counts[layer * Latents + latent] = count;
        totals[layer * Latents + latent] = ToFixed(total);
    }

    /// <summary>Adds another accumulator's counts and totals (same shape).</summary>
    public void Merge(LayerDists other)
    {
        if (other.Layers != Layers || other.Latents != Latents)
            throw new MlsaeException($"dists merge: shapes differ ([{Layers}, {Latents}] and [{other.Layers}, {other.Latents}])");
        for (int c = 0; c < counts.Length; c++)
        {
            counts[c] += other.counts[c];
            totals[c] += other.totals[c];
        }
        for (int c = 0; c < density.Length; c++) density[c] += other.density[c];
        HasDensity &= other.HasDensity;
        if (decoderShare is not null && other.decoderShare is not null && !decoderShare.Cast<double>().SequenceEqual(other.decoderShare.Cast<double>()))
            throw new MlsaeException("dists merge: the decoder_norm_share of the inputs differ (they come from different crosscoders)");
        if (other.decoderShare is null) decoderShare = null;
        Tokens += other.Tokens;
    }

    /// <summary>A latent's positive activations over all layers, per <see cref="ActivationDensity"/> bin; null
    /// where <see cref="HasDensity"/> is false. // [Bins]</summary>
    public long[]? Density(int latent) => HasDensity ? density.AsSpan(latent * ActivationDensity.Bins, ActivationDensity.Bins).ToArray() : null;

    /// <summary>Counts. // [L, F]</summary>
    public long Count(int layer, int latent) => counts[layer * Latents + latent];

    /// <summary>Totals. // [L, F]</summary>
    public double Total(int layer, int latent) => ToDouble(totals[layer * Latents + latent]);

    /// <summary>The derived statistics (float64).</summary>
    public LayerDistStats Stats() => LayerDistStats.From(this);

    /// <summary>Writes <c>counts</c> (I64), <c>totals</c> (F64), their exact form, the derived
    /// per-latent statistics and, when present, <c>density</c> and <c>decoder_norm_share</c>, with <paramref name="metadata"/>.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string> metadata)
    {
        using var scope = NewDisposeScope();
        var stats = Stats();
        var hi = new long[totals.Length];
        var lo = new long[totals.Length];
        for (int c = 0; c < totals.Length; c++)
        {
            hi[c] = (long)(totals[c] >> 64);
            lo[c] = (long)(ulong)(totals[c] & ulong.MaxValue);
        }
        var tensors = new Dictionary<string, Tensor>
        {
            ["counts"] = tensor(counts, [Layers, Latents]),
            ["totals"] = tensor(Enumerable.Range(0, totals.Length).Select(c => ToDouble(totals[c])).ToArray(), [Layers, Latents]),
            ["totals_fixed64"] = stack([tensor(hi, [Layers, Latents]), tensor(lo, [Layers, Latents])], -1),
            ["layer_mean"] = tensor(stats.LayerMean),
            ["layer_var"] = tensor(stats.LayerVar),
            ["layer_std"] = tensor(stats.LayerStd),
        };
        if (HasDensity) tensors["density"] = tensor(density, [Latents, ActivationDensity.Bins]);
        if (decoderShare is not null) tensors["decoder_norm_share"] = tensor(decoderShare.Cast<double>().ToArray(), [Layers, Latents]);
        var meta = new Dictionary<string, string>(metadata) { ["tokens"] = Tokens.ToString(), ["fraction_bits"] = FractionBits.ToString() };
        if (HasDensity)
        {
            meta["density_log10_min"] = ActivationDensity.Log10Min.ToString(System.Globalization.CultureInfo.InvariantCulture);
            meta["density_log10_max"] = ActivationDensity.Log10Max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        SafeTensorsWriter.Write(path, tensors, meta);
    }

    /// <summary>The metadata of a loaded file without the keys <see cref="Save"/> writes itself (tokens,
    /// fraction bits, density edges), so that a merge or re-save puts them back in one order.</summary>
    public static Dictionary<string, string> GivenMetadata(IReadOnlyDictionary<string, string> metadata) =>
        metadata.Where(kv => kv.Key is not ("tokens" or "fraction_bits" or "density_log10_min" or "density_log10_max")).ToDictionary();

    /// <summary>Reads a file written by <see cref="Save"/>.</summary>
    public static (LayerDists Dists, IReadOnlyDictionary<string, string> Metadata) Load(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        using var scope = NewDisposeScope();
        foreach (var name in new[] { "counts", "totals_fixed64" })
            if (!file.Names.Contains(name)) throw new MlsaeException($"{path}: no '{name}' (not a file written by mlsae dists)");
        var shape = file.Shape("counts");
        if (shape.Length != 2) throw new MlsaeException($"{path}: counts must be [L, F]");
        var dists = new LayerDists((int)shape[0], (int)shape[1]);
        file.Read("counts").data<long>().ToArray().CopyTo(dists.counts, 0);
        var fixedPoint = file.Read("totals_fixed64");
        Tensors.Shapes.Check(fixedPoint, $"{path}: totals_fixed64", shape[0], shape[1], 2);
        var parts = fixedPoint.data<long>().ToArray();
        for (int c = 0; c < dists.totals.Length; c++)
            dists.totals[c] = ((Int128)parts[2 * c] << 64) | (ulong)parts[2 * c + 1];
        dists.Tokens = file.Metadata.TryGetValue("tokens", out var t) && long.TryParse(t, out var n) ? n : 0;
        if (file.Names.Contains("density"))
        {
            var density = file.Read("density");
            if (density.dtype != ScalarType.Int64) throw new MlsaeException($"{path}: density must be I64, got {density.dtype}");
            Tensors.Shapes.Check(density, $"{path}: density", shape[1], ActivationDensity.Bins);
            density.data<long>().ToArray().CopyTo(dists.density, 0);
            dists.HasDensity = true;
        }
        if (file.Names.Contains("decoder_norm_share"))
        {
            var share = file.Read("decoder_norm_share");
            if (share.dtype != ScalarType.Float64) throw new MlsaeException($"{path}: decoder_norm_share must be F64, got {share.dtype}");
            Tensors.Shapes.Check(share, $"{path}: decoder_norm_share", shape[0], shape[1]);
            var values = share.data<double>().ToArray();
            var matrix = new double[shape[0], shape[1]];
            for (int c = 0; c < values.Length; c++) matrix[c / shape[1], c % shape[1]] = values[c];
            dists.decoderShare = matrix;
        }
        return (dists, file.Metadata);
    }
}

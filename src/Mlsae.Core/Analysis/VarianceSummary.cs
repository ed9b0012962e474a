using System.Text.Json.Nodes;
using Mlsae.IO;

namespace Mlsae.Analysis;

/// <summary>
/// The variances of latents over layers (<see cref="LayerVariances"/>) as written to
/// <c>variances.json</c>: the five batch means by the reference's names, the number of batches
/// and what they were computed on. Non-finite values (a ratio over one layer) are written as null
/// and read back as NaN.
/// </summary>
public sealed record VarianceSummary
{
    /// <summary>The reference's names of the five values, in the order they are written.</summary>
    public static readonly string[] Names = ["exp_var_l_f", "exp_var_l_tf", "var_l", "rel_var_f", "rel_var_t"];

    /// <summary><c>exp_var_l_f</c>: mean over latents of the variance over layers of the token-averaged probs.</summary>
    public required double ExpVarLF { get; init; }

    /// <summary><c>exp_var_l_tf</c>: mean over tokens and latents of the variance over layers of probs.</summary>
    public required double ExpVarLTF { get; init; }

    /// <summary><c>var_l</c>: variance over layers of the probs averaged over tokens and latents.</summary>
    public required double VarL { get; init; }

    /// <summary><c>rel_var_f</c> = exp_var_l_f / var_l.</summary>
    public required double RelVarF { get; init; }

    /// <summary><c>rel_var_t</c> = exp_var_l_tf / exp_var_l_f: well below 1 when a latent spans fewer layers for one token than over many.</summary>
    public required double RelVarT { get; init; }

    /// <summary>Batches averaged over (<c>batches</c>).</summary>
    public required int Batches { get; init; }

    /// <summary>Token positions processed (<c>tokens</c>), or null when not recorded.</summary>
    public long? Tokens { get; init; }

    /// <summary>Sequences per batch (<c>batch_size</c>, a number), or null when not recorded.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Tokens per sequence (<c>max_length</c>, a number), or null when not recorded.</summary>
    public int? MaxLength { get; init; }

    /// <summary>Share of (token, latent) pairs active at ≥ 1 layer that are active at exactly one
    /// (<c>single_layer_fraction</c>, <see cref="LayerSpan"/>), or null when not recorded.</summary>
    public double? SingleLayerFraction { get; init; }

    /// <summary>Those pairs (<c>active_pairs</c>), or null when not recorded.</summary>
    public long? ActivePairs { get; init; }

    /// <summary>String entries written after the others (model, sae, layers, data, …); an entry
    /// replaces a field of the same name.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>The five values by name, in <see cref="Names"/> order.</summary>
    public IEnumerable<(string Name, double Value)> Values() =>
        Names.Zip<string, double>([ExpVarLF, ExpVarLTF, VarL, RelVarF, RelVarT]);

    /// <summary>The batch means of <paramref name="variances"/>.</summary>
    public static VarianceSummary From(LayerVariances variances)
    {
        var v = variances.Result();
        return new VarianceSummary
        {
            ExpVarLF = v["exp_var_l_f"], ExpVarLTF = v["exp_var_l_tf"], VarL = v["var_l"], RelVarF = v["rel_var_f"], RelVarT = v["rel_var_t"],
            Batches = variances.Batches,
        };
    }

    /// <summary>Writes variances.json atomically: the five values, <c>batches</c>, then <c>tokens</c>,
    /// <c>batch_size</c>, <c>max_length</c> where recorded, then <see cref="Metadata"/>.</summary>
    public void Save(string path)
    {
        var json = new JsonObject();
        foreach (var (name, value) in Values()) json[name] = JsonNumbers.Of(value);
        json["batches"] = Batches;
        if (Tokens is long tokens) json["tokens"] = tokens;
        if (BatchSize is int batchSize) json["batch_size"] = batchSize;
        if (MaxLength is int maxLength) json["max_length"] = maxLength;
        if (SingleLayerFraction is double single) json["single_layer_fraction"] = JsonNumbers.Of(single);
        if (ActivePairs is long pairs) json["active_pairs"] = pairs;
        foreach (var (k, v) in Metadata) json[k] = v;
        ResultJson.Write(path, json);
    }

    /// <summary>Reads a file written by <see cref="Save"/>. A file of the wrong shape is an
    /// <see cref="MlsaeException"/> naming the file and the field.</summary>
    public static VarianceSummary Load(string path)
    {
        var json = ResultJson.Read(path);
        var metadata = new Dictionary<string, string>();
        foreach (var (key, node) in json.Json)
        {
            bool number = node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number;
            if (Names.Contains(key) || key is "batches" or "tokens" or "single_layer_fraction" or "active_pairs" || (number && key is "batch_size" or "max_length")) continue;
            metadata[key] = json.String(key);
        }
        int? Number(string key) => json.Has(key) && !metadata.ContainsKey(key) ? json.Int(key) : null;
        return new VarianceSummary
        {
            ExpVarLF = json.DoubleOrNaN(Names[0]), ExpVarLTF = json.DoubleOrNaN(Names[1]), VarL = json.DoubleOrNaN(Names[2]),
            RelVarF = json.DoubleOrNaN(Names[3]), RelVarT = json.DoubleOrNaN(Names[4]),
            Batches = json.Int("batches"), Tokens = json.OptionalLong("tokens"),
            BatchSize = Number("batch_size"), MaxLength = Number("max_length"), Metadata = metadata,
            SingleLayerFraction = json.Has("single_layer_fraction") ? json.DoubleOrNaN("single_layer_fraction") : null,
            ActivePairs = json.OptionalLong("active_pairs"),
        };
    }
}

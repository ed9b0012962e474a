using System.Text.Json.Nodes;
using Mlsae.IO;

namespace Mlsae.Analysis;

/// <summary>
/// What <c>mlsae mmcs</c> writes: the per-latent max cosine similarity both ways (<see cref="Mmcs"/>)
/// and, for each, the statistics the reference's <c>figures/mmcs.py</c> reports (mean, unbiased
/// var and std, sem = std / √F).
/// </summary>
/// <param name="Sae">Where the SAE was loaded from.</param>
/// <param name="MaxCosSim">Symmetric: max over all other latents. // [F]</param>
/// <param name="MaxCosSimReference">The reference's: max over earlier latents, floored at 0. // [F]</param>
public sealed record MmcsResult(string Sae, double[] MaxCosSim, double[] MaxCosSimReference)
{
    /// <summary>For a coder with one decoder per layer (a per-layer family, a crosscoder): the model layer
    /// whose decoder this is (written as <c>layer</c>); null for the MLSAE's one decoder.</summary>
    public int? Layer { get; init; }
    /// <summary>The latent of entry 0 of the arrays (written as <c>first_latent</c> with <see cref="Layer"/>):
    /// a per-layer family's layer l holds latents l·F ….</summary>
    public long FirstLatent { get; init; }

    /// <summary>The mean of <see cref="MaxCosSim"/>: the MMCS.</summary>
    public double Value => MaxCosSim.Average();
    /// <summary>The mean of <see cref="MaxCosSimReference"/>: the reference's MMCS.</summary>
    public double ReferenceValue => MaxCosSimReference.Average();

    /// <summary>Mean, unbiased variance, its square root and the standard error, as the reference's
    /// figures script computes them with torch's <c>var</c>/<c>std</c>.</summary>
    public static (double Mean, double Var, double Std, double Sem) Stats(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        double var = values.Count > 1 ? values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1) : double.NaN;
        double std = Math.Sqrt(var);
        return (mean, var, std, std / Math.Sqrt(values.Count));
    }

    /// <summary>The JSON: <c>sae</c>, <c>n_latents</c>, <c>mmcs</c>, <c>mmcs_reference</c>, <c>stats</c>
    /// and <c>stats_reference</c> (each <c>mean</c>, <c>var</c>, <c>std</c>, <c>sem</c>), <c>max_cos_sim</c>,
    /// <c>max_cos_sim_reference</c>, and with <see cref="Layer"/> also <c>layer</c> and <c>first_latent</c>.</summary>
    public JsonObject ToJson()
    {
        var json = Json();
        if (Layer is int layer)
        {
            json["layer"] = layer;
            json["first_latent"] = FirstLatent;
        }
        return json;
    }

    JsonObject Json() => new()
    {
        ["sae"] = Sae, ["n_latents"] = MaxCosSim.Length,
        ["mmcs"] = JsonNumbers.Of(Value), ["mmcs_reference"] = JsonNumbers.Of(ReferenceValue),
        ["stats"] = StatsJson(MaxCosSim), ["stats_reference"] = StatsJson(MaxCosSimReference),
        ["max_cos_sim"] = new JsonArray(MaxCosSim.Select(v => (JsonNode?)JsonNumbers.Of(v)).ToArray()),
        ["max_cos_sim_reference"] = new JsonArray(MaxCosSimReference.Select(v => (JsonNode?)JsonNumbers.Of(v)).ToArray()),
    };

    static JsonObject StatsJson(IReadOnlyList<double> values)
    {
        var (mean, var, std, sem) = Stats(values);
        return new JsonObject { ["mean"] = JsonNumbers.Of(mean), ["var"] = JsonNumbers.Of(var), ["std"] = JsonNumbers.Of(std), ["sem"] = JsonNumbers.Of(sem) };
    }

    /// <summary>Writes <see cref="ToJson"/> atomically, on one line (two arrays of F numbers).</summary>
    public void Save(string path) => AtomicFile.WriteText(path, ToJson().ToJsonString() + "\n");
}

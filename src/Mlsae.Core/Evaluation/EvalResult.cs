using System.Text.Json.Nodes;
using Mlsae.IO;

namespace Mlsae.Evaluation;

/// <summary>
/// Evaluation metrics: for each metric a per-layer array in layer order, each entry the mean of
/// its per-batch values (as the reference logs them), plus the mean over layers.
/// </summary>
/// <param name="Layers">Model layer indices the rows cover.</param>
/// <param name="Tokens">Token positions evaluated (B·T summed over batches).</param>
/// <param name="Batches">Batches evaluated.</param>
/// <param name="PerLayer">Metric name → per-layer values: <c>fvu</c>, <c>mse</c>, <c>l1</c>, <c>l0</c>,
/// and with downstream metrics <c>delta_ce_loss</c>, <c>kl_div</c>, <c>logit_mse</c>, <c>ce_loss</c>, <c>ce_loss_recons</c>.</param>
/// <param name="DeadFraction">The reference's test-step <c>DeadLatents</c>: per batch, the fraction of
/// latents selected (at any layer) fewer than batch tokens / dead_tokens_threshold times in that batch,
/// averaged over batches as Lightning averages a test metric. (Files written before
/// <c>dead_fraction_total</c> existed hold the total below under this name.)</param>
public sealed record EvalResult(int[] Layers, long Tokens, int Batches, IReadOnlyDictionary<string, double[]> PerLayer, double DeadFraction)
{
    /// <summary>This tool's count over all evaluated tokens at once: latents selected fewer than
    /// tokens / dead_tokens_threshold times in the whole evaluation. NaN when not known (an older file).</summary>
    public double DeadFractionTotal { get; init; } = double.NaN;

    /// <summary>The training loss on the evaluated batches, each term the mean of its per-batch
    /// values (the reference's test-step <c>loss/*</c>); null when not computed (an older file).</summary>
    public EvalLoss? Loss { get; init; }

    /// <summary>The order metrics are printed and written in.</summary>
    public static readonly string[] MetricOrder = ["fvu", "mse", "l1", "l0", "delta_ce_loss", "kl_div", "logit_mse", "ce_loss", "ce_loss_recons"];

    /// <summary>The tuned lens the SAE read through, or null. With a lens, <c>fvu</c>, <c>mse</c>, <c>l0</c> and
    /// <c>l1</c> are lens-space numbers; the downstream metrics splice the exactly inverted reconstruction
    /// into the model's own stream.</summary>
    public Lens.TunedLensReference? TunedLens { get; init; }

    /// <summary>The space FVU, MSE, L0 and L1 are measured in: <c>residual_stream</c> or <c>tuned_lens</c>.</summary>
    public string ReconstructionSpace => TunedLens is null ? "residual_stream" : "tuned_lens";

    /// <summary>Mean over layers of a metric.</summary>
    public double Mean(string metric) => PerLayer[metric].Average();

    /// <summary>The JSON object: <c>"fvu": [..], "fvu_mean": x, …, "loss", "loss_mse", "loss_auxk",
    /// "dead_fraction", "dead_fraction_total", "layers", "tokens", "batches"</c>.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject();
        foreach (var name in MetricOrder.Where(PerLayer.ContainsKey))
        {
            json[name] = new JsonArray(PerLayer[name].Select(v => (JsonNode?)JsonValue.Create(Finite(v))).ToArray());
            json[name + "_mean"] = Finite(Mean(name));
        }
        if (Loss is { } loss)
        {
            json["loss"] = Finite(loss.Total);
            json["loss_mse"] = Finite(loss.Mse);
            json["loss_auxk"] = Finite(loss.AuxK);
        }
        json["dead_fraction"] = DeadFraction;
        json["dead_fraction_total"] = Finite(DeadFractionTotal);
        json["layers"] = new JsonArray(Layers.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray());
        json["tokens"] = Tokens;
        json["batches"] = Batches;
        json["tuned_lens"] = TunedLens is null ? null : System.Text.Json.JsonSerializer.SerializeToNode(TunedLens);
        json["reconstruction_space"] = ReconstructionSpace;
        return json;
    }

    static double? Finite(double v) => double.IsFinite(v) ? v : null;

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> (eval.json), atomically.</summary>
    public void Save(string path) => ResultJson.Write(path, ToJson());

    /// <summary>Reads a file written by <see cref="Save"/>; non-finite values (written as null) read
    /// as NaN and the <c>*_mean</c> entries are derived, not read. A file of the wrong shape is an
    /// <see cref="MlsaeException"/> naming the file and the field.</summary>
    public static EvalResult Load(string path)
    {
        var json = ResultJson.Read(path);
        var layers = json.Ints("layers");
        var perLayer = new Dictionary<string, double[]>();
        foreach (var metric in MetricOrder.Where(json.Has))
        {
            var values = json.Doubles(metric, nullIsNaN: true);
            if (values.Length != layers.Length) throw json.Error(metric, $"has {values.Length} values for {layers.Length} layers");
            perLayer[metric] = values;
        }
        var loss = json.Has("loss") ? new EvalLoss(json.DoubleOrNaN("loss"), json.DoubleOrNaN("loss_mse"), json.DoubleOrNaN("loss_auxk")) : null;
        Lens.TunedLensReference? lens = null;
        if (json.Has("tuned_lens") && json.Json["tuned_lens"] is not null)
        {
            var o = json.Object("tuned_lens");
            lens = new Lens.TunedLensReference { Source = o.String("source"), Revision = o.OptionalString("revision"), Sha256 = o.String("sha256") };
        }
        return new EvalResult(layers, json.Long("tokens"), json.OptionalInt("batches") ?? 0, perLayer, json.Double("dead_fraction"))
        {
            DeadFractionTotal = json.Has("dead_fraction_total") ? json.DoubleOrNaN("dead_fraction_total") : double.NaN,
            Loss = loss,
            TunedLens = lens,
        };
    }
}

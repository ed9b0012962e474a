using System.Text.Json.Nodes;

namespace Mlsae.Training;

/// <summary>The training metrics of the batches since the last log line, averaged per batch as the reference logs them.</summary>
public sealed class StepAggregate
{
    int batches;
    double loss, mse, auxk, dead, deadRel;
    double[] fvu = [], l0 = [], l1 = [], layerMse = [];
    // A window restored from a state written before l1, per-layer MSE and dead/rel were kept: its
    // sums of those are incomplete, so its line leaves them out rather than log a wrong mean.
    bool partial;

    /// <summary>Adds one batch's metrics.</summary>
    public void Add(BatchMetrics batch)
    {
        if (batches == 0)
        {
            int layers = batch.Fvu.Length;
            (fvu, l0, l1, layerMse) = (new double[layers], new double[layers], new double[layers], new double[layers]);
        }
        batches++;
        loss += batch.Loss; mse += batch.Mse; auxk += batch.AuxK; dead = batch.DeadAbs; deadRel += batch.DeadRel;
        for (int i = 0; i < fvu.Length; i++)
        {
            fvu[i] += batch.Fvu[i]; l0[i] += batch.L0[i]; l1[i] += batch.L1[i]; layerMse[i] += batch.LayerMse[i];
        }
    }

    /// <summary>Whether no batch was added since the last reset.</summary>
    public bool Empty => batches == 0;
    /// <summary>Mean total loss per batch.</summary>
    public double Loss => loss / batches;
    /// <summary>Mean FVU over layers and batches.</summary>
    public double FvuMean => fvu.Average() / batches;
    /// <summary>The dead fraction of the last batch.</summary>
    public double Dead => dead;

    /// <summary>
    /// One <c>metrics.jsonl</c> line: this tool's keys, then the reference's (its Lightning
    /// module's <c>log_dict</c> names): <c>loss/total</c>, <c>loss/mse</c>, <c>loss/auxk</c>;
    /// <c>train/l1/layer_i</c>, <c>train/mse/layer_i</c>, <c>train/fvu/layer_i</c> for each model layer
    /// index i of <paramref name="layers"/>, each with its <c>avg</c> over layers; <c>train/dead/rel</c>
    /// (the per-batch DeadLatents estimate, averaged over the window) and <c>train/dead/abs</c> (the
    /// dead mask's fraction at the window's last batch, as <c>dead_fraction</c>).
    /// </summary>
    public JsonObject ToJson(long step, long tokens, double seconds, IReadOnlyList<int> layers)
    {
        if (layers.Count != fvu.Length) throw new ArgumentException($"{layers.Count} layer labels for {fvu.Length} layers", nameof(layers));
        var perLayer = fvu.Select(v => (JsonNode?)JsonValue.Create(v / batches)).ToArray();
        var json = new JsonObject
        {
            ["step"] = step,
            ["tokens"] = tokens,
            ["seconds"] = Math.Round(seconds, 3),
            ["loss"] = Loss,
            ["loss_mse"] = mse / batches,
            ["loss_auxk"] = auxk / batches,
            ["fvu"] = new JsonArray(perLayer),
            ["fvu_mean"] = FvuMean,
            ["l0_mean"] = l0.Average() / batches,
            ["dead_fraction"] = dead,
            ["loss/total"] = Loss,
            ["loss/mse"] = mse / batches,
            ["loss/auxk"] = auxk / batches,
        };
        if (!partial)
        {
            PerLayer(json, "train/l1/", l1, layers);
            PerLayer(json, "train/mse/", layerMse, layers);
        }
        PerLayer(json, "train/fvu/", fvu, layers);
        // The reference logs train/dead/rel and train/dead/abs; the short names are the ones
        // its metric collection declares (and our issue tracker spells), kept equal.
        if (!partial) { json["train/dead/rel"] = deadRel / batches; json["dead/rel"] = deadRel / batches; }
        json["train/dead/abs"] = dead;
        json["dead/abs"] = dead;
        return json;
    }

    /// <summary>The reference's <c>LayerwiseWrapper</c> keys: <c>{prefix}layer_{i}</c> per layer, then <c>{prefix}avg</c>.</summary>
    void PerLayer(JsonObject json, string prefix, double[] sums, IReadOnlyList<int> layers)
    {
        for (int i = 0; i < sums.Length; i++) json[$"{prefix}layer_{layers[i]}"] = sums[i] / batches;
        json[prefix + "avg"] = sums.Average() / batches;
    }

    /// <summary>The window so far, for a training state: a run resumed mid-window logs the same line
    /// as an uninterrupted one.</summary>
    public string Save() => new JsonObject
    {
        ["batches"] = batches, ["loss"] = loss, ["mse"] = mse, ["auxk"] = auxk, ["dead"] = dead, ["dead_rel"] = deadRel, ["partial"] = partial,
        ["fvu"] = Array(fvu), ["l0"] = Array(l0), ["l1"] = Array(l1), ["layer_mse"] = Array(layerMse),
    }.ToJsonString();

    static JsonArray Array(double[] values) => new(values.Select(v => (JsonNode?)v).ToArray());

    /// <summary>Restores <see cref="Save"/>'s window; <paramref name="where"/> names the file in errors.</summary>
    public void Load(string json, string where)
    {
        try
        {
            var node = JsonNode.Parse(json)!.AsObject();
            batches = node["batches"]!.GetValue<int>();
            loss = node["loss"]!.GetValue<double>();
            mse = node["mse"]!.GetValue<double>();
            auxk = node["auxk"]!.GetValue<double>();
            dead = node["dead"]!.GetValue<double>();
            fvu = Doubles(node["fvu"]!);
            l0 = Doubles(node["l0"]!);
            // States written before the reference's keys were logged lack these three.
            bool older = node["l1"] is null;
            l1 = older ? new double[fvu.Length] : Doubles(node["l1"]!);
            layerMse = older ? new double[fvu.Length] : Doubles(node["layer_mse"]!);
            deadRel = older ? 0 : node["dead_rel"]!.GetValue<double>();
            partial = (older && batches > 0) || (node["partial"]?.GetValue<bool>() ?? false);
            if (batches < 0 || fvu.Length != l0.Length || l1.Length != fvu.Length || layerMse.Length != fvu.Length) throw new FormatException("inconsistent log window");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw MlsaeException.From($"{where}: not a valid log window in its metadata", e);
        }
    }

    static double[] Doubles(JsonNode array) => array.AsArray().Select(v => v!.GetValue<double>()).ToArray();

    /// <summary>Starts a new window.</summary>
    public void Reset()
    {
        batches = 0;
        loss = mse = auxk = dead = deadRel = 0;
        partial = false;
    }
}

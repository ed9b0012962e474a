using System.Text.Json.Nodes;
using Mlsae.Evaluation;

namespace Mlsae.Training;

/// <summary>The training metrics of the batches since the last log line, averaged per batch as the reference logs them.</summary>
public sealed class StepAggregate
{
    int batches;
    double loss, mse, auxk, dead;
    double[] fvu = [], l0 = [];

    /// <summary>Adds one batch's metrics.</summary>
    public void Add(double total, double mseLoss, double auxkLoss, double[] fvuPerLayer, double[] l0PerLayer, double deadFraction)
    {
        if (batches == 0) { fvu = new double[fvuPerLayer.Length]; l0 = new double[l0PerLayer.Length]; }
        batches++;
        loss += total; mse += mseLoss; auxk += auxkLoss; dead = deadFraction;
        for (int i = 0; i < fvu.Length; i++) { fvu[i] += fvuPerLayer[i]; l0[i] += l0PerLayer[i]; }
    }

    /// <summary>Whether no batch was added since the last reset.</summary>
    public bool Empty => batches == 0;
    /// <summary>Mean total loss per batch.</summary>
    public double Loss => loss / batches;
    /// <summary>Mean FVU over layers and batches.</summary>
    public double FvuMean => fvu.Average() / batches;
    /// <summary>The dead fraction of the last batch.</summary>
    public double Dead => dead;

    /// <summary>One <c>metrics.jsonl</c> line.</summary>
    public JsonObject ToJson(long step, long tokens, double seconds)
    {
        var perLayer = fvu.Select(v => (JsonNode?)JsonValue.Create(v / batches)).ToArray();
        return new JsonObject
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
        };
    }

    /// <summary>The window so far, for a training state: a run resumed mid-window logs the same line
    /// as an uninterrupted one.</summary>
    public string Save() => new JsonObject
    {
        ["batches"] = batches, ["loss"] = loss, ["mse"] = mse, ["auxk"] = auxk, ["dead"] = dead,
        ["fvu"] = new JsonArray(fvu.Select(v => (JsonNode?)v).ToArray()), ["l0"] = new JsonArray(l0.Select(v => (JsonNode?)v).ToArray()),
    }.ToJsonString();

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
            fvu = node["fvu"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            l0 = node["l0"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            if (batches < 0 || fvu.Length != l0.Length) throw new FormatException("inconsistent log window");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw MlsaeException.From($"{where}: not a valid log window in its metadata", e);
        }
    }

    /// <summary>Starts a new window.</summary>
    public void Reset()
    {
        batches = 0;
        loss = mse = auxk = dead = 0;
    }
}

using System.Text.Json.Nodes;
using Mlsae.Evaluation;

namespace Mlsae.Training;

/// <summary>The training metrics of the batches since the last log line, averaged per batch as the reference logs them.</summary>
sealed class StepAggregate
{
    int batches;
    double loss, mse, auxk, dead;
    double[] fvu = [], l0 = [];

    public void Add(double total, double mseLoss, double auxkLoss, double[] fvuPerLayer, double[] l0PerLayer, double deadFraction)
    {
        if (batches == 0) { fvu = new double[fvuPerLayer.Length]; l0 = new double[l0PerLayer.Length]; }
        batches++;
        loss += total; mse += mseLoss; auxk += auxkLoss; dead = deadFraction;
        for (int i = 0; i < fvu.Length; i++) { fvu[i] += fvuPerLayer[i]; l0[i] += l0PerLayer[i]; }
    }

    public bool Empty => batches == 0;
    public double Loss => loss / batches;
    public double FvuMean => fvu.Average() / batches;
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

    public void Reset()
    {
        batches = 0;
        loss = mse = auxk = dead = 0;
    }
}

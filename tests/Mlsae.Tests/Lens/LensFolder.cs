using System.Text.Json;
using Mlsae.IO;
using Mlsae.Tests.IO;
using static TorchSharp.torch;

namespace Mlsae.Tests.Lens;

/// <summary>Writes tuned-lens folders as the package lays them out: config.json and params.pt (a
/// torch.save zip of the translators' state dict, built opcode by opcode), or params.safetensors.</summary>
static class LensFolder
{
    /// <summary>A folder with translators <paramref name="weights"/> <c>[L, D, D]</c> and
    /// <paramref name="biases"/> <c>[L, D]</c> (null: <c>bias: false</c>, no bias tensors).</summary>
    public static string Write(float[,,] weights, float[,]? biases, bool safetensors = false, string model = "fixture/model",
        Dictionary<string, object?>? extraConfig = null, string? folder = null)
    {
        folder ??= Path.Combine(Fixtures.TempDir(), "lens");
        Directory.CreateDirectory(folder);
        int l = weights.GetLength(0), d = weights.GetLength(1);
        var config = new Dictionary<string, object?>
        {
            ["base_model_name_or_path"] = model, ["d_model"] = d, ["num_hidden_layers"] = l, ["bias"] = biases is not null,
            ["base_model_revision"] = null, ["unembed_hash"] = "abc", ["lens_type"] = "linear_tuned_lens",
        };
        foreach (var (k, v) in extraConfig ?? []) config[k] = v;
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config));
        var tensors = new List<(string Name, float[] Values, long[] Shape)>();
        for (int i = 0; i < l; i++)
        {
            tensors.Add(($"{i}.weight", Enumerable.Range(0, d * d).Select(j => weights[i, j / d, j % d]).ToArray(), [d, d]));
            if (biases is not null) tensors.Add(($"{i}.bias", Enumerable.Range(0, d).Select(j => biases[i, j]).ToArray(), [d]));
        }
        if (safetensors)
        {
            using var scope = NewDisposeScope();
            SafeTensorsWriter.Write(Path.Combine(folder, "params.safetensors"), tensors.ToDictionary(t => t.Name, t => tensor(t.Values).reshape(t.Shape)), null);
        }
        else
        {
            // One storage per tensor, keyed "0", "1", … as torch.save numbers them.
            var specs = tensors.Select((t, k) => new TensorSpec(t.Name, k.ToString(), t.Values.Length, 0, t.Shape,
                t.Shape.Length == 2 ? [t.Shape[1], 1] : [1])).ToArray();
            var storages = tensors.Select((t, k) => (k.ToString(), t.Values.SelectMany(BitConverter.GetBytes).ToArray())).ToDictionary(x => x.Item1, x => x.Item2);
            TestZips.TorchZip(PickleBuilder.StateDict(specs), storages, path: Path.Combine(folder, "params.pt"));
        }
        return folder;
    }

    /// <summary>Zero translators (the identity) for L layers of width D.</summary>
    public static string Zero(int layers, int d) => Write(new float[layers, d, d], new float[layers, d]);

    /// <summary>Random translators: W ~ N(0, scale²), b ~ N(0, 1), seeded.</summary>
    public static string Random(int layers, int d, int seed, float scale = 0.1f)
    {
        var rng = new Random(seed);
        float Normal() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        var w = new float[layers, d, d];
        var b = new float[layers, d];
        for (int i = 0; i < layers; i++)
            for (int r = 0; r < d; r++)
            {
                b[i, r] = Normal();
                for (int c = 0; c < d; c++) w[i, r, c] = scale * Normal();
            }
        return Write(w, b);
    }
}

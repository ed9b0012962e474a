using System.Text.Json.Nodes;
using Mlsae.Models;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Interop;

/// <summary>SAEs in sparsify's layout (a run folder with one <c>layers.{l}</c> folder per block
/// output, and an MLP hookpoint to skip) go through <c>eval</c> and <c>dists</c> as a per-layer
/// baseline, computed as sparsify computes them.</summary>
public class ExternalEvalTests
{
    static string SparsifyRun()
    {
        var root = Path.Combine(Fixtures.TempDir(), "sparsify-run");
        for (int layer = 0; layer < 2; layer++)
        {
            using var files = ExternalSaeFiles.Random(d: 32, f: 64, seed: 10 + layer);
            files.WriteSparsify(Path.Combine(root, $"layers.{layer}"), ExternalSaeFiles.SparsifyCfg(32, 2, 4));
        }
        using (var mlp = ExternalSaeFiles.Random(d: 32, f: 64, seed: 99))
            mlp.WriteSparsify(Path.Combine(root, "layers.1.mlp"), ExternalSaeFiles.SparsifyCfg(32, 2, 4));
        return root;
    }

    [Fact]
    public void EvalOfASparsifyRunGivesEachLayersFvuAsItsSaeComputesIt()
    {
        var root = SparsifyRun();
        var data = TinyRun.Data(4, seed: 8);
        var output = Path.Combine(Fixtures.TempDir(), "eval.json");
        var r = CliRunner.Run("eval", "--sae", root, "--model", TinyRun.Model, "--data", data, "--max-length", "32", "--batch-size", "2",
            "--max-tokens", "64", "--out", output);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Contains("skipped layers.1.mlp", r.Error);
        var eval = JsonNode.Parse(File.ReadAllText(output))!;
        Assert.Equal([0, 1], eval["layers"]!.AsArray().Select(l => l!.GetValue<int>()));
        Assert.Equal(1, eval["batches"]!.GetValue<int>());

        // The same batch by hand: the model's zeroed residual stream, each layer's SAE as sparsify
        // computes it (relu(W(x − b_dec) + b_enc), top 4, decode + b_dec), FVU of that layer.
        using var scope = NewDisposeScope();
        using var model = ModelSession.Open(TinyRun.Model, "main", "0,1", CPU, ScalarType.Float32, true, () => throw new InvalidOperationException("no hub"));
        var ids = File.ReadLines(data).Take(2).Select(l => JsonNode.Parse(l)!["input_ids"]!.AsArray().Select(v => v!.GetValue<long>()).ToArray()).ToList();
        var x = model.Stream.Forward(model.Stream.Tokens(ids));                           // [2, 2, 32, 32]
        for (int layer = 0; layer < 2; layer++)
        {
            using var files = ExternalSaeFiles.Random(d: 32, f: 64, seed: 10 + layer);
            var v = x[layer].reshape(-1, 32);
            var pre = nn.functional.relu((v - files.DecoderBias).mm(files.Encoder.t()) + files.EncoderBias);
            var (values, indices) = pre.topk(4, dim: -1);
            var recons = zeros(v.shape[0], 64).scatter(1, indices, values).mm(files.Decoder) + files.DecoderBias;
            // The reference's FVU: MSE over the layer's values / their pooled (unbiased) variance.
            double fvu = ((v - recons).pow(2).mean() / v.flatten().var(0, unbiased: true)).item<float>();
            double got = eval["fvu"]![layer]!.GetValue<double>();
            Assert.True(Math.Abs(got - fvu) <= 1e-5 * Math.Max(1, Math.Abs(fvu)), $"layer {layer}: eval FVU {got}, by hand {fvu} (tolerance 1e-5 relative)");
        }
    }

    [Fact]
    public void DistsOfASparsifyRunPlaceEachLatentAtItsOwnLayer()
    {
        var root = SparsifyRun();
        var data = TinyRun.Data(8, seed: 9);
        var output = Path.Combine(Fixtures.TempDir(), "dists.safetensors");
        var r = CliRunner.Run("dists", "--sae", root, "--model", TinyRun.Model, "--data", data, "--max-length", "32", "--batch-size", "2",
            "--max-tokens", "128", "--out", output);
        Assert.True(r.ExitCode == 0, r.Error);
        var (dists, _) = Mlsae.Analysis.LayerDists.Load(output);
        Assert.Equal((2, 128), (dists.Layers, dists.Latents));                          // the family's latents, numbered across its SAEs
        long Sum(int layer, int from, int to) => Enumerable.Range(from, to - from).Sum(f => dists.Count(layer, f));
        Assert.Equal(0, Sum(0, 64, 128));                                                // layer 1's SAE never writes layer 0
        Assert.Equal(0, Sum(1, 0, 64));
        Assert.True(Sum(0, 0, 64) > 0 && Sum(1, 64, 128) > 0);
    }

    [Fact]
    public void TrainingAnExternalFamilyIsRefusedAndAFolderWithoutAnSaeIsAnError()
    {
        var empty = Path.Combine(Fixtures.TempDir(), "nothing");
        Directory.CreateDirectory(empty);
        var r = CliRunner.Run("eval", "--sae", empty, "--model", TinyRun.Model, "--data", TinyRun.Data(2), "--out", Path.Combine(empty, "e.json"));
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.Error.Trim().Split('\n'));
        using var set = Mlsae.Interop.ExternalSaeSet.Load(SparsifyRun());
        using var family = new Mlsae.Coders.External.ExternalSaeFamily(set);
        using var x = randn(2, 1, 3, 32);
        Assert.Contains("not supported", Assert.Throws<MlsaeException>(() => family.Forward(x, training: true)).Message);
    }
}

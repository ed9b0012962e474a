using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Coders.Crosscoder;
using Mlsae.IO;
using Mlsae.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Coders;

/// <summary>The crosscoder against a computation written out here, its training step, checkpoint and errors.</summary>
public class CrosscoderTests
{
    const int L = 3, D = 8, F = 24, K = 4, B = 2, T = 5;

    static CrosscoderConfig Config(int? auxk = 6) => new() { NInputs = D, NLatents = F, ModelLayers = [1, 2, 4], K = K, AuxK = auxk };

    /// <summary>A crosscoder with random biases (zero at init) and inputs at a residual stream's scale.</summary>
    static (AcausalCrosscoder Coder, Tensor Inputs) Random(SparseCoderSettings? settings = null, int seed = 3)
    {
        var coder = AcausalCrosscoder.Create(Config(), settings ?? new SparseCoderSettings(), seed);
        using (no_grad()) coder.PreEncoderBias.copy_(randn([L, D], generator: new Generator((ulong)seed + 1)) * 0.3);
        var inputs = (randn([L, B, T, D], generator: new Generator((ulong)seed + 2)) * 2 + 0.5).DetachFromDisposeScope();
        return (coder, inputs);
    }

    [Fact]
    public void ForwardMatchesTheArchitectureWrittenOut()
    {
        using var scope = NewDisposeScope();
        var (coder, inputs) = Random();
        using var _ = coder;
        using var output = coder.Forward(inputs, training: false);
        var x = inputs.to(ScalarType.Float64).reshape(L, B * T, D).data<double>().ToArray();
        var enc = coder.Encoder.detach().to(ScalarType.Float64).data<double>().ToArray();      // [F, L·D]
        var dec = coder.Decoder.detach().to(ScalarType.Float64).data<double>().ToArray();
        var bias = coder.PreEncoderBias.detach().to(ScalarType.Float64).data<double>().ToArray();
        var recons = output.Recons.to(ScalarType.Float64).reshape(L, B * T, D).data<double>().ToArray();
        var tokenValues = output.TokenTopK!.Values.reshape(B * T, K).data<float>().ToArray();
        var tokenIndices = output.TokenTopK.Indices.reshape(B * T, K).data<long>().ToArray();
        var layerValues = output.TopK.Values.reshape(L, B * T, K).data<float>().ToArray();
        var layerIndices = output.TopK.Indices.reshape(L, B * T, K).data<long>().ToArray();
        for (int n = 0; n < B * T; n++)
        {
            // Standardize each layer's vector (unbiased std, eps on the std), subtract that layer's bias.
            var mean = new double[L];
            var std = new double[L];
            var u = new double[L, D];
            for (int l = 0; l < L; l++)
            {
                var v = Enumerable.Range(0, D).Select(d => x[(l * B * T + n) * D + d]).ToArray();
                mean[l] = v.Average();
                std[l] = Math.Sqrt(v.Sum(a => (a - mean[l]) * (a - mean[l])) / (D - 1));
                for (int d = 0; d < D; d++) u[l, d] = (v[d] - mean[l]) / (std[l] + Standardization.Eps) - bias[l * D + d];
            }
            // Pre-activations: the sum over layers of each layer's encoder; TopK; ReLU.
            var pre = Enumerable.Range(0, F).Select(f => Enumerable.Range(0, L).Sum(l => Enumerable.Range(0, D).Sum(d => u[l, d] * enc[f * L * D + l * D + d]))).ToArray();
            var top = Enumerable.Range(0, F).OrderByDescending(f => pre[f]).Take(K).ToArray();
            var got = tokenIndices.Skip(n * K).Take(K).ToArray();
            Assert.Equal(top.Order(), got.Select(i => (int)i).Order());
            for (int s = 0; s < K; s++)
            {
                int f = (int)got[s];
                double act = Math.Max(0, pre[f]);
                Assert.True(Math.Abs(act - tokenValues[n * K + s]) <= 1e-5 + 1e-5 * act, $"token {n} latent {f}: {tokenValues[n * K + s]} vs {act}");
                for (int l = 0; l < L; l++)
                {
                    // Per-layer codes: the same latents, valued at activation × ‖decoder slice‖ × std.
                    Assert.Equal(f, layerIndices[(l * B * T + n) * K + s]);
                    double norm = Math.Sqrt(Enumerable.Range(0, D).Sum(d => dec[f * L * D + l * D + d] * dec[f * L * D + l * D + d]));
                    double expected = act * norm * std[l];
                    Assert.True(Math.Abs(expected - layerValues[(l * B * T + n) * K + s]) <= 1e-5 + 1e-4 * expected, $"layer {l} token {n} latent {f}");
                }
            }
            // Each layer's reconstruction: its decoders, plus its bias, de-standardized with its own statistics.
            for (int l = 0; l < L; l++)
                for (int d = 0; d < D; d++)
                {
                    double r = bias[l * D + d] + top.Sum(f => Math.Max(0, pre[f]) * dec[f * L * D + l * D + d]);
                    double expected = r * std[l] + mean[l];
                    Assert.True(Math.Abs(expected - recons[(l * B * T + n) * D + d]) <= 1e-4, $"recons layer {l} token {n} dim {d}: {recons[(l * B * T + n) * D + d]} vs {expected} (tolerance 1e-4)");
                }
        }
    }

    [Fact]
    public void TheSparseKernelsGiveTheDenseLossAndGradients()
    {
        using var scope = NewDisposeScope();
        // Threshold 1 token: after one step every latent that did not fire is dead, so AuxK has work.
        var settings = new SparseCoderSettings { DeadTokensThreshold = 1 };
        var (sparse, inputs) = Random(settings);
        var (dense, _) = Random(settings with { Kernels = MlsaeKernels.Dense });
        using var a = sparse;
        using var b = dense;
        foreach (var coder in new[] { sparse, dense })
        {
            using (no_grad()) coder.Forward(inputs, training: true).Dispose();
            coder.AfterStep();
        }
        Assert.True(sparse.DeadMask().sum().item<long>() > 0, "some latents are dead");
        var losses = new[] { sparse, dense }.Select(coder =>
        {
            using var output = coder.Forward(inputs, training: true);
            var loss = coder.Loss(inputs, output);
            loss.Total.backward();
            return loss;
        }).ToArray();
        Assert.True(losses[0].AuxK.item<float>() > 0, "AuxK is on");
        Fixtures.AssertClose(losses[1].Total, losses[0].Total, 1e-6, 1e-5, "loss");
        foreach (var (name, p) in sparse.NamedParameters)
            Fixtures.AssertClose(dense.NamedParameters.Single(q => q.Name == name).Parameter.grad!, p.grad!, 1e-6, 1e-4, $"d {name}");
    }

    [Fact]
    public void StepsKeepEachLatentsDecoderColumnUnitNormOverTheConcatenatedLayers()
    {
        using var scope = NewDisposeScope();
        var (coder, inputs) = Random();
        using var _ = coder;
        coder.InitializeFromFirstBatch(inputs);
        using var adam = new AdamOptimizer(coder.Parameters, 1e-2);
        double first = 0, last = 0;
        for (int step = 0; step < 20; step++)
        {
            using var inner = NewDisposeScope();
            using var output = coder.Forward(inputs, training: true);
            using var loss = coder.Loss(inputs, output);
            if (step == 0) first = loss.FvuMean.item<float>();
            last = loss.FvuMean.item<float>();
            loss.Total.backward();
            coder.BeforeStep();
            // The projected gradient has no component along any latent's column.
            Assert.True(((coder.Decoder.grad! * coder.Decoder).sum(1).abs().max().item<float>()) < 1e-5, "projected decoder gradient (tolerance 1e-5)");
            adam.StepOnce();
            coder.AfterStep();
            adam.ZeroGrad();
        }
        var columns = coder.Decoder.detach().reshape(F, L, D);                            // [F, L, D]
        Fixtures.AssertClose(ones(F), columns.reshape(F, L * D).norm(1), 1e-5, 0, "column norms over the layers");
        var perLayer = columns.norm(-1);                                                   // [F, L]
        Assert.True((perLayer - 1).abs().min().item<float>() > 1e-3, "no layer's slice is unit-norm on its own");
        Assert.True(last < 0.9 * first, $"FVU went from {first} to {last}");
    }

    [Fact]
    public void ACheckpointHoldsPerLayerSlicesAndLoadsBackExactly()
    {
        using var scope = NewDisposeScope();
        var (coder, inputs) = Random();
        using var _ = coder;
        var dir = Fixtures.TempDir();
        coder.Save(dir);
        Assert.Equal(AcausalCrosscoder.KindName, SparseCoderRegistry.KindOf(dir));
        using (var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors")))
        {
            Assert.Equal(new long[] { L, F, D }, file.Shape("encoder.weight"));
            Assert.Equal(new long[] { L, D, F }, file.Shape("decoder.weight"));
            Assert.Equal(new long[] { L, D }, file.Shape("pre_encoder_bias"));
            var columns = coder.Decoder.detach().reshape(F, L, D);
            // Slice l of decoder.weight is layer l's MLSAE-layout decoder [D, F]; of encoder.weight its [F, D] encoder.
            Assert.True(file.Read("decoder.weight")[1].allclose(columns.select(1, 1).t(), rtol: 0, atol: 0));
            Assert.True(file.Read("encoder.weight")[2].allclose(coder.Encoder.detach().reshape(F, L, D).select(1, 2), rtol: 0, atol: 0));
        }
        using var loaded = SparseCoderRegistry.Load(dir, new SparseCoderSettings());
        Assert.Equal([1, 2, 4], loaded.Layers!);
        var back = Assert.IsType<AcausalCrosscoder>(loaded.Coder);
        Assert.Equal(coder.Config, back.Config);
        foreach (var ((name, p), (_, q)) in coder.NamedParameters.Zip(back.NamedParameters))
            Assert.True(p.allclose(q, rtol: 0, atol: 0), name);
        using var a = coder.Forward(inputs, training: false);
        using var b = back.Forward(inputs, training: false);
        Assert.True(a.Recons.allclose(b.Recons, rtol: 0, atol: 0));
        var share = back.DecoderNormShare();
        for (int f = 0; f < F; f++) Assert.True(Math.Abs(Enumerable.Range(0, L).Sum(l => share[l, f]) - 1) < 1e-12, "shares sum to 1");
    }

    [Fact]
    public void BadInputsAndConfigsAreOneLineErrors()
    {
        using var scope = NewDisposeScope();
        var (coder, _) = Random();
        using var c = coder;
        var wrongLayers = Assert.Throws<MlsaeException>(() => coder.Forward(zeros(2, 1, 3, D), training: false));
        Assert.Contains("reads layers [1, 2, 4] as [3, B, T, 8] inputs, got [2, 1, 3, 8]", wrongLayers.Message);
        Assert.Contains("the reference has no crosscoder",
            Assert.Throws<MlsaeException>(() => AcausalCrosscoder.Create(Config(), new SparseCoderSettings { ReferenceQuirks = true }, 0)).Message);
        Assert.Contains("k must be in 1..n_latents", Assert.Throws<MlsaeException>(() => (Config() with { K = F + 1 }).Validate()).Message);
        Assert.Contains("layers must be distinct", Assert.Throws<MlsaeException>(() => (Config() with { ModelLayers = [1, 1] }).Validate()).Message);

        var dir = Fixtures.TempDir();
        coder.Save(dir);
        var config = Path.Combine(dir, "config.json");
        var text = File.ReadAllText(config);
        File.WriteAllText(config, text.Replace("\"n_latents\": 24,", ""));
        Assert.Equal($"{config}: 'n_latents' is missing", Assert.Throws<MlsaeException>(() => SparseCoderRegistry.Load(dir, new SparseCoderSettings())).Message);
        File.WriteAllText(config, text.Replace("\"n_latents\": 24", "\"n_latents\": 25"));
        var shape = Assert.Throws<MlsaeException>(() => SparseCoderRegistry.Load(dir, new SparseCoderSettings())).Message;
        Assert.Contains("encoder.weight: expected shape [3, 25, 8], got [3, 24, 8]", shape);
        File.WriteAllText(config, text);
        File.Delete(Path.Combine(dir, "model.safetensors"));
        Assert.Equal($"{dir}: no model.safetensors", Assert.Throws<MlsaeException>(() => SparseCoderRegistry.Load(dir, new SparseCoderSettings())).Message);
    }
}

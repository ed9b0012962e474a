using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Metrics;
using Mlsae.Models;
using Mlsae.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

/// <summary>
/// The reference's MLSAE step on model B's hidden states (<c>mlsae_golden.safetensors</c>): two
/// forward calls, dead latents, losses, metrics, gradients, the decoder projection, one Adam step,
/// the geometric median and the downstream metrics. Tolerances are the fixture README's.
/// </summary>
public class MlsaeGoldenTests
{
    static readonly string Golden = Fixtures.Path("mlsae", "mlsae_golden.safetensors");
    static readonly string Checkpoint = Fixtures.Path("mlsae", "sae_checkpoint");

    static (Tensor Values, Tensor Indices) SortedDescending(TopK topk)
    {
        var (values, order) = topk.Values.sort(-1, descending: true);
        return (values, topk.Indices.gather(-1, order));
    }

    static MlsaeAutoencoder LoadReference(MlsaeKernels kernels)
    {
        var loaded = MlsaeCheckpoint.Load(Checkpoint, new SparseCoderSettings { ReferenceQuirks = true, Kernels = kernels });
        Assert.Null(loaded.TransformerArguments);
        Assert.Equal(new DeadLatentRule(false, 2), loaded.Autoencoder.DeadLatents.Rule);   // the checkpoint's dead_steps_threshold, in calls
        return loaded.Autoencoder;
    }

    [Theory]
    [InlineData(MlsaeKernels.Sparse)]
    [InlineData(MlsaeKernels.Dense)]
    public void ReproducesTheReferenceTrainingStep(MlsaeKernels kernels)
    {
        using var scope = NewDisposeScope();
        var g = Fixtures.ReadAll(Golden);
        using var sae = LoadReference(kernels);
        var x = g["inputs"];
        Fixtures.AssertClose(g["params.encoder_weight"], sae.Encoder, 0, 0, "encoder");
        Fixtures.AssertClose(g["params.decoder_weight"], sae.Decoder.t(), 0, 0, "decoder");

        // Call 1: nothing is dead yet, but the reference's AuxK loss is still non-zero.
        using (no_grad())
        {
            var call1 = sae.Forward(x, training: true);
            Assert.Equal(g["state.last_nonzero_after_call1"].data<long>().ToArray(), sae.DeadLatents.LastNonzero.data<long>().ToArray());
            Assert.Equal(0f, call1.Dead.item<float>());
            var mse1 = Fvu.Loss(x, call1.Recons);
            var aux1 = AuxKLoss.Compute(call1, 1.0 / 32);
            Fixtures.AssertClose(g["call1.loss.mse"], mse1, 0, 1e-5, "call1 mse");
            Fixtures.AssertClose(g["call1.loss.auxk"], aux1, 0, 1e-5, "call1 auxk");
            Fixtures.AssertClose(g["call1.loss.total"], mse1 + aux1, 0, 1e-5, "call1 total");
        }

        // Call 2: the recorded training step.
        var output = sae.Forward(x, training: true);
        var stats = Standardization.Of(x.reshape(-1, 48));
        Fixtures.AssertClose(g["standardized_inputs"], stats.Standardized.reshape(x.shape), 1e-5, 0, "standardized");
        Fixtures.AssertClose(g["stats.std"], stats.Std.reshape(2, 2, 19, 1), 1e-5, 0, "std");
        var (topValues, topIndices) = SortedDescending(new TopK(output.TopKRaw, output.TopK.Indices));
        Assert.Equal(g["topk.indices_sorted"].data<long>().ToArray(), topIndices.data<long>().ToArray());
        Fixtures.AssertClose(g["topk.values_raw_sorted"], topValues, 1e-5, 0, "topk raw");
        Fixtures.AssertClose(g["topk.values_relu_sorted"], SortedDescending(output.TopK).Values, 1e-5, 0, "topk relu");
        Fixtures.AssertClose(g["recons"], output.Recons, 1e-5, 0, "recons");
        var (auxValues, auxIndices) = SortedDescending(output.AuxK!);
        Assert.Equal(g["auxk.indices_sorted"].data<long>().ToArray(), auxIndices.data<long>().ToArray());
        Fixtures.AssertClose(g["auxk.values_relu_sorted"], auxValues, 1e-5, 0, "auxk");
        Fixtures.AssertClose(g["auxk_recons"], output.AuxKRecons!, 1e-5, 0, "auxk_recons");
        Assert.Equal(g["state.last_nonzero_after_call2"].data<long>().ToArray(), sae.DeadLatents.LastNonzero.data<long>().ToArray());
        Assert.Equal(g["call2.dead_mask"].data<bool>().ToArray(), sae.DeadLatents.Mask().data<bool>().ToArray());
        Fixtures.AssertClose(g["call2.dead_fraction"], output.Dead, 0, 1e-6, "dead fraction");

        // Metrics, as the reference logs them.
        Fixtures.AssertClose(g["metrics.mse"], Fvu.LayerMse(x, output.Recons), 0, 1e-5, "mse");
        Fixtures.AssertClose(g["metrics.input_var"], Fvu.LayerVariance(x), 0, 1e-5, "input var");
        Fixtures.AssertClose(g["metrics.fvu"], Fvu.PerLayer(x, output.Recons), 0, 1e-5, "fvu");
        Fixtures.AssertClose(g["metrics.l1"], SparsityMetrics.L1(output.TopK.Values), 0, 1e-5, "l1");
        Fixtures.AssertClose(g["metrics.l0"], SparsityMetrics.L0(output.TopK.Values), 0, 0, "l0");
        Assert.Equal(g["metrics.dead_rel"].item<float>(), (float)SparsityMetrics.DeadFraction(
            SparsityMetrics.Selections(output.TopK.Indices, 192), 2 * 19, 1e7), 6);

        // Loss and gradients.
        var mse = Fvu.Loss(x, output.Recons);
        var aux = AuxKLoss.Compute(output, 1.0 / 32);
        var total = mse + aux;
        Fixtures.AssertClose(g["loss.mse"], mse, 0, 1e-5, "loss.mse");
        Fixtures.AssertClose(g["loss.auxk"], aux, 0, 1e-5, "loss.auxk");
        Fixtures.AssertClose(g["loss.total"], total, 0, 1e-5, "loss.total");
        total.backward();
        Fixtures.AssertClose(g["grad_raw.encoder_weight"], sae.Encoder.grad!, 1e-7, 0, "grad encoder");
        Fixtures.AssertClose(g["grad_raw.decoder_weight"], sae.Decoder.grad!.t(), 1e-7, 0, "grad decoder");
        Fixtures.AssertClose(g["grad_raw.pre_encoder_bias"], sae.PreEncoderBias.grad!, 1e-7, 0, "grad bias");
        long[] neverSelected = [13, 65, 69, 72, 88, 115, 133, 139, 143, 151, 154, 183, 191];
        foreach (var latent in neverSelected)
        {
            Assert.True(sae.Encoder.grad![latent].abs().max().item<float>() == 0, $"encoder grad of latent {latent} leaks");
            Assert.True(sae.Decoder.grad![latent].abs().max().item<float>() == 0, $"decoder grad of latent {latent} leaks");
        }

        sae.NormalizeDecoder();
        Fixtures.AssertClose(g["after_backward.decoder_weight"], sae.Decoder.t(), 1e-6, 0, "normalized decoder");
        sae.ProjectDecoderGradient();
        Fixtures.AssertClose(g["grad.decoder_weight"], sae.Decoder.grad!.t(), 1e-7, 0, "projected grad");
        Fixtures.AssertClose(g["grad.encoder_weight"], sae.Encoder.grad!, 1e-7, 0, "encoder grad unchanged");

        var before = sae.Parameters.Select(p => p.detach().clone()).ToArray();
        using var adam = new AdamOptimizer(sae.Parameters, 1e-3);
        adam.StepOnce();
        string[] names = ["encoder_weight", "decoder_weight", "pre_encoder_bias"];
        for (int i = 0; i < 3; i++)
        {
            Tensor Ours(Tensor t) => i == 1 ? t.t() : t;
            var reliable = g[$"adam.reliable_mask.{names[i]}"];
            var expected = g[$"adam.{names[i]}"];
            var actual = Ours(sae.Parameters[i].detach());
            Fixtures.AssertClose(expected.masked_select(reliable), actual.masked_select(reliable), 1e-6, 0, $"adam {names[i]}");
            Fixtures.AssertClose(expected, actual, 2 * 1e-3, 0, $"adam {names[i]} (all)");
            Fixtures.AssertClose(g[$"adam.exp_avg.{names[i]}"], Ours(adam.ExpAvg[i]), 1e-8, 0, $"exp_avg {names[i]}");
            Fixtures.AssertClose(g[$"adam.exp_avg_sq.{names[i]}"], Ours(adam.ExpAvgSq[i]), 1e-10, 0, $"exp_avg_sq {names[i]}");
        }
        foreach (var latent in neverSelected)
        {
            Assert.True(sae.Encoder[latent].eq(before[0][latent]).all().item<bool>(), $"Adam moved unselected latent {latent}");
            Assert.True(sae.Decoder[latent].eq(before[1][latent]).all().item<bool>(), $"Adam moved unselected latent {latent}");
        }
    }

    [Fact]
    public void GeometricMedianMatchesWeiszfeld()
    {
        using var scope = NewDisposeScope();
        var g = Fixtures.ReadAll(Golden);
        Fixtures.AssertClose(g["geometric_median"], MlsaeAutoencoder.GeometricMedian(g["inputs"]), 1e-5, 0, "geometric median");
    }

    [Fact]
    public void DownstreamMetricsMatchTheReference()
    {
        using var scope = NewDisposeScope();
        var g = Fixtures.ReadAll(Golden);
        var b = Fixtures.ReadAll(Fixtures.Path("gpt_neox", "modelB_expected.safetensors"));
        using var model = GptNeoXLoader.Load(Fixtures.Path("gpt_neox", "modelB"));
        var metrics = DownstreamMetrics.Compute(model, [0, 1], g["inputs"], g["recons"], b["tokens"]);
        Fixtures.AssertClose(g["val.loss_true"], tensor(metrics.LossTrue.Select(v => (float)v).ToArray()), 1e-5, 0, "loss true");
        Fixtures.AssertClose(g["val.loss_pred"], tensor(metrics.LossPred.Select(v => (float)v).ToArray()), 1e-5, 0, "loss pred");
        Fixtures.AssertClose(g["val.loss_delta"], tensor(metrics.DeltaLoss.Select(v => (float)v).ToArray()), 1e-5, 0, "delta");
        Fixtures.AssertClose(g["val.logit_mse"], tensor(metrics.LogitMse.Select(v => (float)v).ToArray()), 1e-4, 0, "logit mse");
        Fixtures.AssertClose(g["val.logit_kl_div"], tensor(metrics.KlDiv.Select(v => (float)v).ToArray()), 1e-4, 0, "kl");
    }
}

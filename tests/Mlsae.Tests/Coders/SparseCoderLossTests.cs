using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Metrics;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Coders;

/// <summary>The coder's <see cref="ISparseCoder.Loss"/> is what the trainer used to compose:
/// mean FVU over layers + AuxK coefficient · AuxK.</summary>
public class SparseCoderLossTests
{
    static readonly MlsaeConfig Config = new() { NInputs = 16, NLatents = 64, K = 4, AuxK = 8, DeadStepsThreshold = 1 };

    /// <summary>FVU of one layer by hand, in float64: Σ(r − x)² / n over the unbiased pooled variance.</summary>
    static double HandFvu(double[] x, double[] r)
    {
        double mean = x.Average();
        double mse = x.Zip(r, (a, b) => (b - a) * (b - a)).Sum() / x.Length;
        double variance = x.Sum(a => (a - mean) * (a - mean)) / (x.Length - 1);
        return mse / variance;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LossIsTheMeanFvuPlusTheWeightedAuxK(bool quirks)
    {
        using var scope = NewDisposeScope();
        var x = randn([3, 2, 5, 16], generator: new Generator(7)) * 2 + 0.5;   // [L, B, T, D]
        // Threshold 10 = B · T: every latent is dead after the first call, so AuxK is non-zero.
        using ISparseCoder coder = MlsaeAutoencoder.Create(Config, new SparseCoderSettings { ReferenceQuirks = quirks, DeadTokensThreshold = 10, AuxKCoef = 0.25 }, seed: 3);
        coder.InitializeFromFirstBatch(x);
        using var output = coder.Forward(x, training: true);
        using var loss = coder.Loss(x, output);

        // What MlsaeTrainer.TrainBatch computed before the loss moved into the coder (exact: the same ops).
        var fvu = Fvu.PerLayer(x, output.Recons);
        var error = quirks ? x - output.Recons : output.AuxKError!;
        var auxk = AuxKLoss.Compute(error, output.AuxKRecons!, 0.25);
        Fixtures.AssertClose(fvu, loss.Fvu, 0, 0, "fvu per layer");
        Fixtures.AssertClose(fvu.mean(), loss.FvuMean, 0, 0, "fvu mean");
        Fixtures.AssertClose(auxk, loss.AuxK, 0, 0, "auxk");
        Fixtures.AssertClose(fvu.mean() + auxk, loss.Total, 0, 0, "total");
        Assert.True(loss.AuxK.item<float>() > 0);

        // By hand in float64, tolerance rtol 1e-5 (float32 sums over 160 values).
        var xs = x.to(ScalarType.Float64).reshape(3, -1);
        var rs = output.Recons.detach().to(ScalarType.Float64).reshape(3, -1);
        for (int l = 0; l < 3; l++)
        {
            double expected = HandFvu(xs[l].data<double>().ToArray(), rs[l].data<double>().ToArray());
            Assert.True(Math.Abs(expected - loss.Fvu[l].item<float>()) <= 1e-5 * expected, $"layer {l}: fvu {loss.Fvu[l].item<float>()} vs {expected} by hand");
        }

        // The standardized error by hand: standardize x and the reconstruction the way the coder does.
        if (!quirks)
        {
            var flat = x.reshape(-1, 16);
            var mean = flat.mean([-1], keepdim: true);
            var std = (flat - mean).std(-1, unbiased: true, keepdim: true);
            var standardizedRecons = (output.Recons.reshape(-1, 16) - mean) / std;
            var handError = ((flat - mean) / (std + Standardization.Eps) - standardizedRecons).reshape(x.shape);
            Fixtures.AssertClose(handError, output.AuxKError!, 1e-5, 0, "standardized error");
        }
    }

    [Fact]
    public void AZeroCoefficientLeavesAuxKOut()
    {
        using var scope = NewDisposeScope();
        var x = randn([2, 1, 6, 16], generator: new Generator(5));
        using ISparseCoder coder = MlsaeAutoencoder.Create(Config, new SparseCoderSettings { DeadTokensThreshold = 6, AuxKCoef = 0 }, seed: 1);
        using var output = coder.Forward(x, training: true);
        using var loss = coder.Loss(x, output);
        Assert.Equal(0f, loss.AuxK.item<float>());
        Fixtures.AssertClose(loss.FvuMean, loss.Total, 0, 0, "total");
    }

    [Fact]
    public void StateNamesAreTheTrainingStateFilesNames()
    {
        using ISparseCoder coder = MlsaeAutoencoder.Create(Config, new SparseCoderSettings(), seed: 0);
        Assert.Equal(["encoder", "decoder", "pre_encoder_bias"], coder.NamedParameters.Select(p => p.Name));
        Assert.True(coder.Parameters.SequenceEqual(coder.NamedParameters.Select(p => p.Parameter), ReferenceEqualityComparer.Instance));
        Assert.Equal(["last_nonzero", "tokens_since_fired"], coder.NamedBuffers.Select(b => b.Name));
    }
}

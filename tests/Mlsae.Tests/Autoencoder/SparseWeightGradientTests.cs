using Mlsae.Autoencoder;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

/// <summary>The sparse encoder weight gradient, CPU kernel and torch path, against the dense product.</summary>
public class SparseWeightGradientTests
{
    [Fact]
    public void BothPathsGiveTheDenseGradient()
    {
        using var scope = NewDisposeScope();
        const int n = 50, d = 20, f = 60;
        var u = randn([n, d], generator: new Generator(1));
        var topIndices = randint(f - 10, [n, 4], generator: new Generator(2));
        var topGrads = randn([n, 4], generator: new Generator(3));
        // Latents f − 10 … f − 1 are never selected. AuxK slots: some repeat a TopK latent of the same row, a third carry the exact zeros the ReLU leaves.
        var auxIndices = cat([topIndices.narrow(1, 0, 2), randint(f - 10, [n, 4], generator: new Generator(4))], 1);
        var auxGrads = randn([n, 6], generator: new Generator(5)) * (rand([n, 6], generator: new Generator(6)) > 0.33).to(ScalarType.Float32);
        // The dense reference: scatter-add every slot into [N, F], then [F, N]·[N, D].
        var dense = zeros([n, f]).scatter_add_(1, topIndices, topGrads).scatter_add_(1, auxIndices, auxGrads);
        var expectedWeight = dense.t().mm(u);
        var expectedPerLatent = dense.sum([0L]);
        foreach (bool cpu in new[] { true, false })
        {
            var (weight, perLatent) = SparseWeightGradient.Compute(u, [(topIndices, topGrads), (auxIndices, auxGrads)], f, cpu);
            // Sums of a few float32 products in another order: rounding only.
            Fixtures.AssertClose(expectedWeight, weight, 1e-5, 1e-5, $"weight gradient (cpu {cpu})");
            Fixtures.AssertClose(expectedPerLatent, perLatent, 1e-5, 1e-5, $"per-latent sum (cpu {cpu})");
        }
        var unselected = dense.abs().sum([0L]).eq(0).nonzero().squeeze(1);
        Assert.True(unselected.shape[0] > 0, "the data leaves some latent unselected");
        var (cpuWeight, _) = SparseWeightGradient.Compute(u, [(topIndices, topGrads), (auxIndices, auxGrads)], f, true);
        Assert.Equal(0f, cpuWeight.index_select(0, unselected).abs().max().item<float>());
    }
}

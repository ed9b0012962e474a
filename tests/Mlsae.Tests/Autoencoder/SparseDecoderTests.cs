using Mlsae.Autoencoder;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

/// <summary>The CPU decode kernels against the EmbeddingBag they replace.</summary>
public class SparseDecoderTests
{
    [Fact]
    public void CpuKernelsGiveTheEmbeddingBagsOutputAndGradients()
    {
        using var scope = NewDisposeScope();
        const int n = 40, s = 6, f = 50, d = 20;
        var indices = randint(f, [n, s], generator: new Generator(1));
        // Zeros (ReLU'd slots) and repeated latents within a row, as TopK and AuxK produce.
        var raw = randn([n, s], generator: new Generator(2)) * (rand([n, s], generator: new Generator(3)) > 0.3).to(ScalarType.Float32);
        indices[.., 1] = indices[.., 0];
        var g = randn([n, d], generator: new Generator(4));
        var results = new List<Tensor[]>();
        for (int path = 0; path < 2; path++)
        {
            using var weight = new Parameter(randn([f, d], generator: new Generator(5)));
            using var decoder = new SparseDecoder(weight);
            var values = raw.clone().requires_grad_();
            var topk = new TopK(values, indices);
            var output = path == 0 ? decoder.Decode(topk) : decoder.DecodeWithEmbeddingBag(topk);
            (output * g).sum().backward();
            results.Add([output.detach().clone(), values.grad!.clone(), weight.grad!.clone()]);
        }
        string[] names = ["output", "value gradients", "weight gradient"];
        // The same float32 sums in another order: rounding only.
        for (int i = 0; i < 3; i++) Fixtures.AssertClose(results[1][i], results[0][i], 1e-5, 1e-5, names[i]);
        Assert.True(results[0][1].abs().sum().item<float>() > 0);
    }
}

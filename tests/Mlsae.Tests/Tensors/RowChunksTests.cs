using Mlsae.Autoencoder;
using Mlsae.Tensors;
using Mlsae.Training;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Tensors;

/// <summary>The blocked updates (Adam, the decoder-gradient projection) against the same arithmetic
/// on whole tensors, on parameters larger than one block: bit for bit (tolerance 0).</summary>
public class RowChunksTests
{
    // 1,300 × 1,000 = 1.3M elements: two blocks, the second partial, and a width that is no power of two.
    const int Rows = 1300, Width = 1000;

    [Fact]
    public void BlocksCoverEveryRowOnceInOrder()
    {
        var blocks = RowChunks.Of(Rows, Width).ToList();
        Assert.True(blocks.Count > 1);
        Assert.Equal(0, blocks[0].Start);
        for (int i = 1; i < blocks.Count; i++) Assert.Equal(blocks[i - 1].Start + blocks[i - 1].Length, blocks[i].Start);
        Assert.Equal(Rows, blocks[^1].Start + blocks[^1].Length);
        Assert.All(blocks, b => Assert.True(b.Length * Width <= RowChunks.Elements));
        Assert.Equal(3, RowChunks.Of(3, 2 * RowChunks.Elements).Count());   // a row wider than a block is a block of its own
    }

    [Fact]
    public void BlockedAdamEqualsWholeTensorAdamBitForBit()
    {
        var init = randn([Rows, Width], generator: new Generator(1));
        using var p = new Parameter(init.clone());
        using var adam = new AdamOptimizer([p], 1e-3, weightDecay: 0.01, decayed: new HashSet<int> { 0 });
        var expected = init.clone();
        var m = zeros_like(init);
        var v = zeros_like(init);
        for (int step = 1; step <= 3; step++)
        {
            var g = randn([Rows, Width], generator: new Generator((ulong)(10 + step)));
            p.grad = g.clone();
            adam.StepOnce();
            // torch.optim.AdamW's arithmetic on the whole tensors, in the same op order.
            double c1 = 1 - Math.Pow(0.9, step), c2 = 1 - Math.Pow(0.999, step);
            expected.mul_(1 - 1e-3 * 0.01);
            m.mul_(0.9).add_(g, alpha: 1 - 0.9);
            v.mul_(0.999).addcmul_(g, g, value: 1 - 0.999);
            var denom = v.sqrt().div_(Math.Sqrt(c2)).add_(6.25e-10);
            expected.addcdiv_(m, denom, value: -1e-3 / c1);
        }
        Assert.True(p.detach().eq(expected).all().item<bool>(), "blocked Adam differs from whole-tensor Adam");
        Assert.True(adam.ExpAvgSq[0].eq(v).all().item<bool>());
    }

    [Fact]
    public void BlockedProjectionEqualsWholeTensorProjectionBitForBit()
    {
        var w = randn([Rows, Width], generator: new Generator(2));
        w.div_(w.norm(1, keepdim: true));
        using var decoder = new Parameter(w.clone());
        var g = randn([Rows, Width], generator: new Generator(3));
        decoder.grad = g.clone();
        UnitNormDecoder.ProjectGradient(decoder);
        var expected = g - (g * w).sum(1, keepdim: true) * w;
        Assert.True(decoder.grad!.eq(expected).all().item<bool>(), "blocked projection differs from the whole-tensor one");
    }

    [Fact]
    public void ZeroGradDropsTheGradientsAndTheNextBackwardSetsThemAgain()
    {
        using var p = new Parameter(ones(4));
        using var adam = new AdamOptimizer([p], 1e-3);
        (p * 2).sum().backward();
        adam.StepOnce();
        adam.ZeroGrad();
        Assert.Null(p.grad);
        (p * 3).sum().backward();
        Assert.Equal([3f, 3f, 3f, 3f], p.grad!.data<float>().ToArray());
    }

    [Fact]
    public void TheHeapTrimsOnlyWhenThatIsCheapNextToTheStep()
    {
        // 200 MiB free costs ~80 ms to give back: within 5% of a 3 s step, not of a 0.3 s one.
        Assert.True(NativeHeap.WithinBudget(200L << 20, TimeSpan.FromSeconds(3)));
        Assert.False(NativeHeap.WithinBudget(200L << 20, TimeSpan.FromSeconds(0.3)));
        Assert.True(NativeHeap.WithinBudget(0, TimeSpan.Zero));
        if (OperatingSystem.IsLinux()) Assert.NotNull(NativeHeap.FreeBytes());   // glibc here
        for (int i = 0; i < 3; i++) NativeHeap.TrimWithinBudget(TimeSpan.FromSeconds(10));
    }
}

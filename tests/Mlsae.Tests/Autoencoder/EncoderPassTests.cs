using Mlsae.Autoencoder;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

/// <summary>The chunked encoder pass against the full <c>[N, F]</c> pre-activations and <c>torch.topk</c>.</summary>
public class EncoderPassTests
{
    const int N = 300, D = 24, F = 200, K = 5, AuxK = 20;

    static (Tensor U, Tensor W) Random(int seed) =>
        (randn([N, D], generator: new Generator((ulong)seed)), randn([F, D], generator: new Generator((ulong)seed + 1)) / Math.Sqrt(D));

    /// <summary>Indices sorted per row, and the values in the same order, to compare selections made in any order.</summary>
    static (Tensor Values, Tensor Indices) ByIndex(Tensor values, Tensor indices)
    {
        var (sorted, order) = indices.sort(-1);
        return (values.gather(-1, order), sorted);
    }

    /// <summary>The reference's AuxK as the straight port computes it: topk over the dead columns, clamped at 0.</summary>
    static (Tensor Values, Tensor Indices) ReferenceAuxK(Tensor latents, Tensor dead)
    {
        var deadIndex = dead.nonzero().squeeze(1);
        int take = (int)Math.Min(AuxK, deadIndex.shape[0]);
        var values = zeros([N, AuxK]);
        var indices = zeros([N, AuxK], ScalarType.Int64);
        if (take == 0) return (values, indices);
        var (top, at) = latents.index_select(1, deadIndex).topk(take, dim: -1);
        values.narrow(1, 0, take).copy_(top.clamp_min(0));
        indices.narrow(1, 0, take).copy_(deadIndex.index_select(0, at.reshape(-1)).reshape(N, take));
        return (values, indices);
    }

    public static TheoryData<bool, int?, string> Cases() => new()
    {
        { true, null, "half" }, { true, 7, "half" }, { true, 64, "few" }, { true, 64, "none" }, { true, 1, "all" },
        { false, null, "half" }, { false, 7, "few" }, { false, 64, "all" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ChunksSelectWhatTheFullMatrixSelects(bool cpuKernels, int? chunkRows, string deadKind)
    {
        using var scope = NewDisposeScope();
        var (u, w) = Random(1);
        // "few" (6 of 200) takes the kernel's list path, "half" and "all" its mask path; "few" also
        // leaves AuxK slots no dead latent fills.
        var dead = deadKind switch
        {
            "half" => (arange(F) % 2).eq(0),
            "few" => (arange(F) % 37).eq(3),
            "all" => ones(F, ScalarType.Bool),
            _ => zeros(F, ScalarType.Bool),
        };
        var latents = u.mm(w.t());                                                   // [N, F]
        var (expectedValues, expectedIndices) = latents.topk(K, dim: -1);
        var pass = EncoderPass.Run(u, w, K, AuxK, dead, ScalarType.Float32, chunkRows, cpuKernels);
        var (values, indices) = ByIndex(pass.Values, pass.Indices);
        var (ev, ei) = ByIndex(expectedValues, expectedIndices);
        Assert.Equal(ei.data<long>().ToArray(), indices.data<long>().ToArray());
        // The chunk's matmul may block differently from the full one: float32 rounding only.
        Fixtures.AssertClose(ev, values, 1e-6, 1e-6, "topk values");
        var (auxValues, auxIndices) = ReferenceAuxK(latents, dead);
        var positive = auxValues.gt(0);
        // Slots holding 0 (negative dead values, unfilled slots) contribute nothing; compare the rest.
        var (av, ai) = ByIndex(pass.AuxValues!.masked_fill(pass.AuxValues!.le(0), 0), pass.AuxIndices!.masked_fill(pass.AuxValues!.le(0), -1));
        var (rv, ri) = ByIndex(auxValues, auxIndices.masked_fill(positive.logical_not(), -1));
        Assert.Equal(ri.data<long>().ToArray(), ai.data<long>().ToArray());
        Fixtures.AssertClose(rv, av, 1e-6, 1e-6, "auxk values");
        Assert.True(pass.AuxValues!.ge(0).all().item<bool>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheDeadColumnsPassEqualsTheSinglePass(bool cpuKernels)
    {
        using var scope = NewDisposeScope();
        var (u, w) = Random(2);
        foreach (var dead in new[] { (arange(F) % 3).eq(1), (arange(F) % 50).eq(0), zeros(F, ScalarType.Bool) })
        {
            var single = EncoderPass.Run(u, w, K, AuxK, dead, ScalarType.Float32, 64, cpuKernels);
            var (values, indices) = EncoderPass.DeadColumns(u, w, dead, AuxK, ScalarType.Float32, 64, cpuKernels);
            var live = single.AuxValues!.gt(0);
            var (sv, si) = ByIndex(single.AuxValues!, single.AuxIndices!.masked_fill(live.logical_not(), -1));
            var (dv, di) = ByIndex(values, indices.masked_fill(values.gt(0).logical_not(), -1));
            Assert.Equal(si.data<long>().ToArray(), di.data<long>().ToArray());
            Fixtures.AssertClose(sv, dv, 1e-6, 1e-6, "dead-columns pass");
        }
    }
}

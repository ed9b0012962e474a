using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Metrics;
using Mlsae.Training;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Mlsae.Tests.Autoencoder;

/// <summary>bfloat16 compute: candidates selected in bfloat16, re-scored in float32.</summary>
public class BFloat16EncoderTests(ITestOutputHelper output)
{
    /// <summary>
    /// A latent can change sides only when bfloat16 rounding can reorder it with the K-th: each
    /// pre-activation's bfloat16 error is at most ε_j = 2⁻⁶ Σ_i |u_i| |W_ji| (inputs and weights
    /// rounded, relative error 2⁻⁸ each, and the product rounded again: 3·2⁻⁸, under 2⁻⁶), so with
    /// E = max_j ε_j of the row every latent in the symmetric difference of the float32 and the
    /// re-scored selections lies within 2E of the float32 K-th value (plus 1e-5 for float32 rounding).
    /// </summary>
    /// <para>The same bound holds widened (<see cref="Mlsae.Tensors.CpuFeatures.WidenBFloat16"/>: the
    /// product of the rounded operands is not rounded again, so its error is smaller).</para>
    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void RescoredSelectionMatchesFloat32ExceptNearTheKthValue(bool cpuKernels, bool widen)
    {
        using var scope = NewDisposeScope();
        const int n = 256, d = 64, f = 512, k = 8;
        var u = randn([n, d], generator: new Generator(7));
        var w = randn([f, d], generator: new Generator(8)) / Math.Sqrt(d);
        var latents = u.mm(w.t());                                                   // [N, F]
        var (sorted, _) = latents.topk(k, dim: -1);
        var kth = sorted.select(1, k - 1);                                            // [N]
        var bound = (u.abs().mm(w.abs().t()) * Math.Pow(2, -6)).amax([1]) * 2 + 1e-5;  // [N]
        var expected = latents.topk(k, dim: -1).indexes;
        var pass = EncoderPass.Run(u, w, k, null, null, ScalarType.BFloat16, 100, cpuKernels, widen);
        // The values are float32 dot products.
        Fixtures.AssertClose(latents.gather(1, pass.Indices), pass.Values, 1e-5, 1e-5, "re-scored values");
        var plain = u.to(ScalarType.BFloat16).mm(w.to(ScalarType.BFloat16).t()).topk(k, dim: -1).indexes;
        int differ = 0, plainDiffer = 0;
        for (int row = 0; row < n; row++)
        {
            var a = expected[row].data<long>().ToHashSet();
            var b = pass.Indices[row].data<long>().ToHashSet();
            if (!plain[row].data<long>().ToHashSet().SetEquals(a)) plainDiffer++;
            if (a.SetEquals(b)) continue;
            differ++;
            foreach (var j in a.Except(b).Concat(b.Except(a)))
            {
                double gap = Math.Abs(latents[row, j].item<float>() - kth[row].item<float>());
                Assert.True(gap <= bound[row].item<float>(), $"row {row}: latent {j} is {gap:g4} from the K-th value, beyond bfloat16's reach {bound[row].item<float>():g4}");
            }
        }
        output.WriteLine($"rows whose selection differs from float32: re-scored {differ}, plain bfloat16 {plainDiffer} of {n}");
        Assert.True(plainDiffer > differ, $"re-scoring changes nothing here ({differ} vs {plainDiffer})");
    }

    static Tensor Data(int count, int seed, Tensor atoms)
    {
        // Sums of 3 of 64 unit atoms with random scales, plus a little noise: a dictionary an SAE can learn.
        var g = new Generator((ulong)seed);
        var pick = rand([count, atoms.shape[0]], generator: g).topk(3, dim: -1).indexes;
        var scale = (rand([count, 3], generator: g) + 0.5f) * 3;
        var codes = zeros([count, atoms.shape[0]]).scatter_(1, pick, scale);
        return (codes.mm(atoms) + randn([count, atoms.shape[1]], generator: g) * 0.05f).reshape(1, 1, count, -1);
    }

    /// <summary>
    /// The same tiny training run in float32 and with a bfloat16 encoder ends at about the same
    /// held-out FVU. Gradients are float32 either way; bfloat16 only changes which near-tie
    /// latents win (re-scored, rare) and the AuxK values' precision, so the runs drift apart no more
    /// than two float32 runs whose data differ by a seed: the bound is that seed-to-seed spread,
    /// measured here, plus 0.01.
    /// </summary>
    [Fact]
    public void TrainingInBFloat16ReachesTheFloat32Fvu()
    {
        using var scope = NewDisposeScope();
        var atoms = randn([64, 32], generator: new Generator(1));
        atoms = atoms / atoms.norm(1, keepdim: true);
        var heldOut = Data(512, 99, atoms);
        double Train(ScalarType dtype, int dataSeed)
        {
            using var inner = NewDisposeScope();
            var config = new MlsaeConfig { NInputs = 32, NLatents = 128, K = 4, AuxK = 16, DeadStepsThreshold = 10 };
            using var sae = MlsaeAutoencoder.Create(config, new SparseCoderSettings { DeadTokensThreshold = 2048, ComputeDType = dtype }, seed: 3);
            using var adam = new AdamOptimizer(sae.Parameters, 3e-3);
            for (int step = 0; step < 150; step++)
            {
                using var stepScope = NewDisposeScope();
                var x = Data(256, dataSeed * 1000 + step, atoms);
                if (step == 0) sae.InitializeFromFirstBatch(x);
                var result = sae.Forward(x, training: true);
                sae.Loss(x, result).Total.backward();
                sae.AfterBackward();
                sae.BeforeStep();
                adam.StepOnce();
                adam.ZeroGrad();
                sae.AfterStep();
            }
            using var _ = no_grad();
            return Fvu.Loss(heldOut, sae.Forward(heldOut, training: false).Recons).item<float>();
        }
        double fp32 = Train(ScalarType.Float32, 1), otherSeed = Train(ScalarType.Float32, 2), bf16 = Train(ScalarType.BFloat16, 1);
        output.WriteLine($"held-out FVU: float32 {fp32:F4}, float32 other data seed {otherSeed:F4}, bfloat16 {bf16:F4}");
        Assert.True(fp32 < 0.3, $"the run learns nothing (FVU {fp32:F4})");
        double spread = Math.Abs(fp32 - otherSeed);
        Assert.True(Math.Abs(bf16 - fp32) <= spread + 0.01, $"bfloat16 FVU {bf16:F4} vs float32 {fp32:F4}: more than the seed spread {spread:F4} + 0.01");
    }
}

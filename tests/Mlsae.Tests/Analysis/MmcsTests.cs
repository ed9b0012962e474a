using Mlsae.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

/// <summary>Both MMCS definitions in chunks smaller than F against a brute-force double loop.</summary>
public class MmcsTests
{
    static double Cos(double[,] w, int i, int j)
    {
        double dot = 0, a = 0, b = 0;
        for (int d = 0; d < w.GetLength(1); d++) { dot += w[i, d] * w[j, d]; a += w[i, d] * w[i, d]; b += w[j, d] * w[j, d]; }
        return dot / Math.Sqrt(a * b);
    }

    static (Tensor Decoder, double[,] Values) Decoder(int f, int d, int seed)
    {
        var rng = new Random(seed);
        var values = new double[f, d];
        var flat = new float[f * d];
        for (int i = 0; i < f; i++)
            for (int j = 0; j < d; j++) flat[i * d + j] = (float)(values[i, j] = rng.NextDouble() * 2 - 1);
        for (int i = 0; i < f; i++)
            for (int j = 0; j < d; j++) values[i, j] = flat[i * d + j];   // the float32 values the tensor holds
        return (tensor(flat, [f, d]), values);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(64)]
    public void TheReferenceVersionIsTheMaxOverEarlierLatentsFlooredAtZeroInAnyChunking(int chunk)
    {
        // D 3 and F 11: many pairs of negative similarity, so the floor at 0 and the triangle matter.
        var (decoder, w) = Decoder(11, 3, seed: 4);
        var actual = Mmcs.MaxCosineReference(decoder, chunk);
        for (int j = 0; j < 11; j++)
        {
            double expected = 0;
            for (int i = 0; i < j; i++) expected = Math.Max(expected, Cos(w, i, j));
            Assert.True(Math.Abs(expected - actual[j]) <= 1e-6, $"latent {j}: {actual[j]} vs brute force {expected} (tolerance 1e-6)");
        }
        Assert.Equal(0, actual[0]);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(64)]
    public void TheSymmetricVersionIsTheMaxOverAllOtherLatents(int chunk)
    {
        var (decoder, w) = Decoder(11, 3, seed: 4);
        var actual = Mmcs.MaxCosine(decoder, chunk);
        for (int j = 0; j < 11; j++)
        {
            double expected = double.NegativeInfinity;
            for (int i = 0; i < 11; i++) if (i != j) expected = Math.Max(expected, Cos(w, i, j));
            Assert.True(Math.Abs(expected - actual[j]) <= 1e-6, $"latent {j}: {actual[j]} vs brute force {expected} (tolerance 1e-6)");
        }
    }

    [Fact]
    public void TheStatisticsAreTorchsUnbiasedVarAndStdWithTheirSem()
    {
        var (mean, var, std, sem) = MmcsResult.Stats([0.0, 1.0, 2.0, 3.0]);
        Assert.Equal(1.5, mean, 12);
        Assert.Equal(5.0 / 3, var, 12);
        Assert.Equal(Math.Sqrt(5.0 / 3), std, 12);
        Assert.Equal(Math.Sqrt(5.0 / 3) / 2, sem, 12);
    }
}

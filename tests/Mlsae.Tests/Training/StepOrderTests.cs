using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Tests.Cli;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Training;

/// <summary>The consistent step order: every micro-batch of a step sees the parameters and the
/// dead mask the step began with (decoder renormalized after Adam, dead-latent counters updated at
/// the step's end with the union of its firings); the reference's quirks keep its per-backward order.</summary>
public class StepOrderTests
{
    static float[] DecoderRowNorms(string run)
    {
        using var coder = SparseCoderRegistry.Load(run, new SparseCoderSettings()).Coder;
        return ((MlsaeAutoencoder)coder).Decoder.norm(1).data<float>().ToArray();
    }

    [Fact]
    public void TheConsistentOrderEndsEveryStepWithAUnitNormDecoderAndTheQuirksOrderDoesNot()
    {
        var data = TinyRun.Data(24, seed: 2);
        var consistent = Path.Combine(Fixtures.TempDir(), "consistent");
        var quirks = Path.Combine(Fixtures.TempDir(), "quirks");
        Assert.Equal(0, CliRunner.Run(TinyRun.TrainArgs(data, consistent, steps: 3, "--val-batches", "0")).ExitCode);
        Assert.Equal(0, CliRunner.Run(TinyRun.TrainArgs(data, quirks, steps: 3, "--val-batches", "0", "--reference-quirks", "true")).ExitCode);
        // Tolerance 1e-5: one float32 division per row.
        Assert.All(DecoderRowNorms(consistent), n => Assert.InRange(n, 1 - 1e-5f, 1 + 1e-5f));
        // The reference saves the decoder Adam left (renormalized only after the next backward):
        // lr 3e-3 moves some rows' norms well past float32 rounding.
        Assert.Contains(DecoderRowNorms(quirks), n => Math.Abs(n - 1) > 1e-4);
    }

    [Fact]
    public void AStepsCountersTakeTheUnionOfItsCallsFiringsAndItsTokens()
    {
        using var scope = NewDisposeScope();
        using var dead = new DeadLatents(6, new DeadLatentRule(true, 10), CPU);
        dead.Load(full(6, 3L, ScalarType.Int64), full(6, 30L, ScalarType.Int64));
        var mask = dead.Mask().data<bool>().ToArray();
        // Call 1 fires latents 0 and 1 (latent 1 below the threshold does not count), call 2 fires 2.
        dead.Record(new TopK(tensor(new float[,] { { 0.5f, 0.0001f } }), tensor(new long[,] { { 0, 1 } })), tokens: 4, deadThreshold: 1e-3);
        dead.Record(new TopK(tensor(new float[,] { { 0.2f, 0.3f } }), tensor(new long[,] { { 2, 0 } })), tokens: 5, deadThreshold: 1e-3);
        Assert.Equal(mask, dead.Mask().data<bool>().ToArray());                       // unchanged within the step
        Assert.Equal(new long[] { 2, 0, 1, 0, 0, 0, 9, 2 }, dead.StepTally.data<long>().ToArray());
        dead.ApplyStep();
        Assert.Equal(new long[] { 2, 5, 2, 5, 5, 5 }, dead.LastNonzero.data<long>().ToArray());   // fired: restart at the step's 2 calls
        Assert.Equal(new long[] { 9, 39, 9, 39, 39, 39 }, dead.TokensSinceFired.data<long>().ToArray());
        Assert.Equal(new long[8], dead.StepTally.data<long>().ToArray());
        dead.ApplyStep();                                                             // nothing recorded: nothing changes
        Assert.Equal(new long[] { 9, 39, 9, 39, 39, 39 }, dead.TokensSinceFired.data<long>().ToArray());
    }
}

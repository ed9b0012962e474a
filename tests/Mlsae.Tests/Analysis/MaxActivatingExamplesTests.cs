using Mlsae.Analysis;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Analysis;

public class MaxActivatingExamplesTests
{
    [Fact]
    public void KeepsTheTopNWithContextAndBreaksTiesByEarlierToken()
    {
        using var scope = NewDisposeScope();
        // One layer, 3 latents, K = 1, two sequences of 5 tokens.
        long[][] tokens = [[10, 11, 12, 13, 14], [20, 21, 22, 23, 24]];
        float[] acts = [0.5f, 2.0f, 0.0f, 2.0f, 1.0f, /* seq 1 */ 3.0f, 2.0f, 0.2f, 0.0005f, 2.0f];
        long[] latent = [0, 0, 1, 0, 0, /* seq 1 */ 0, 0, 2, 1, 0];
        var values = tensor(acts, [1, 2, 5, 1]);
        var indices = tensor(latent, [1, 2, 5, 1]);
        var examples = new MaxActivatingExamples(layers: 1, latents: 3, topN: 3, window: 1);
        examples.Add(tokens, values, indices, [7, 8]);
        var all = examples.All().ToList();
        var zero = all.Where(e => e.Latent == 0).ToList();
        // Latent 0: 3.0 (seq 8 pos 0), then three 2.0s of which the two earliest (seq 7 pos 1, seq 7 pos 3) stay.
        Assert.Equal([(8L, 0), (7L, 1), (7L, 3)], zero.Select(e => (e.Sequence, e.Position)));
        Assert.Equal([20L, 21], zero[0].TokenIds);                 // clipped at the start of the sequence
        Assert.Equal([3.0f, 2.0f], zero[0].Acts);
        Assert.Equal(0, zero[0].Offset);
        Assert.Equal([12L, 13, 14], zero[2].TokenIds);
        Assert.Equal([0.0f, 2.0f, 1.0f], zero[2].Acts);               // latent 1 at position 2 is not latent 0
        Assert.Equal(1, zero[2].Offset);
        // 0.0005 is below the 1e-3 firing threshold: latent 1 keeps only its zero-free example at seq 7 pos 2? no: act 0 is not > threshold either.
        Assert.DoesNotContain(all, e => e.Latent == 1);
        Assert.Single(all, e => e.Latent == 2);

        // A shard holding the later sequence, merged into one holding the earlier, gives the same result.
        var first = new MaxActivatingExamples(1, 3, 3, 1);
        var second = new MaxActivatingExamples(1, 3, 3, 1);
        first.Add([tokens[0]], values[.., 0..1], indices[.., 0..1], [7]);
        second.Add([tokens[1]], values[.., 1..2], indices[.., 1..2], [8]);
        second.Add(first.All());
        Assert.Equal(all.Select(e => (e.Latent, e.Sequence, e.Position, e.Act)), second.All().Select(e => (e.Latent, e.Sequence, e.Position, e.Act)));
    }
}

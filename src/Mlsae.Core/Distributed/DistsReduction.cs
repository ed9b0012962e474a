using Mlsae.Analysis;
using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Distributed;

/// <summary>
/// Sums <see cref="LayerDists"/> over the ranks exactly, so rank 0 holds what one process over all
/// the batches computes, byte for byte: counts, densities and tokens are int64 sums; the 128-bit
/// fixed-point totals travel as four 32-bit limbs in int64 slots (no slot can overflow below 2³¹
/// ranks), and the limbs are carried back into 128 bits modulo 2¹²⁸, where two's complement sums agree.
/// </summary>
public static class DistsReduction
{
    /// <summary>The dists of all of <paramref name="session"/>'s batches, each rank encoding its own
    /// (<see cref="AnalysisSession.Parallel"/>) and every rank ending with the sum.</summary>
    public static LayerDists Compute(AnalysisSession session, Runs.IRunObserver observer, IDataParallel parallel)
    {
        var dists = new LayerDists(session.Model.Layers.Length, session.Sae.NLatents);
        session.Encode("dists", observer, (_, output) => dists.Add(output.TopKRaw, output.TopK.Indices));
        SumOverRanks(dists, parallel);
        if (dists.Tokens == 0) throw new MlsaeException("dists: no data (the source holds no full sequence)");
        return dists;
    }

    /// <summary>Replaces <paramref name="dists"/> on every rank with the sum over all ranks.</summary>
    public static void SumOverRanks(LayerDists dists, IDataParallel parallel)
    {
        if (parallel.Size == 1) return;
        var (counts, totals, density) = dists.Cells;
        RankGather.Sum(parallel, counts);
        RankGather.Sum(parallel, density);
        var limbs = new long[totals.Length * 4];
        for (int c = 0; c < totals.Length; c++)
        {
            var bits = (UInt128)totals[c];
            for (int i = 0; i < 4; i++) limbs[c * 4 + i] = (long)(uint)(bits >> (32 * i));
        }
        RankGather.Sum(parallel, limbs);
        for (int c = 0; c < totals.Length; c++)
        {
            UInt128 bits = 0;
            for (int i = 0; i < 4; i++) bits += (UInt128)(ulong)limbs[c * 4 + i] << (32 * i);
            totals[c] = (Int128)bits;
        }
        var tokens = new[] { dists.Tokens };
        RankGather.Sum(parallel, tokens);
        dists.Tokens = tokens[0];
    }
}

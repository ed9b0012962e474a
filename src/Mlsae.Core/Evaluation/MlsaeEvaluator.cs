using Mlsae.Coders;
using Mlsae.Metrics;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Evaluation;

/// <summary>Runs a sparse coder (an MLSAE or any <see cref="ISparseCoder"/>) over batches of data
/// and collects <see cref="EvalResult"/>: the reference's test step (reconstruction, sparsity,
/// downstream metrics and the loss terms) without touching the coder's training state, unless asked
/// to advance its dead-latent counters as the reference's validation does.</summary>
public static class MlsaeEvaluator
{
    /// <summary>Evaluates on up to <paramref name="maxBatches"/> batches. <paramref name="progress"/> gets
    /// tokens done; <paramref name="observe"/> sees each batch's coder output inside the batch's scope.
    /// With <paramref name="advanceDeadLatents"/> every forward call advances the coder's dead-latent
    /// counters as a training call does (the reference's Lightning module advances <c>last_nonzero</c>
    /// on every forward, validation included; a training run's validation asks for it under
    /// <c>--reference-quirks</c>). Nothing is ever saved here. Under several ranks
    /// (<paramref name="parallel"/>) batch j is evaluated by rank j mod N and every rank returns the
    /// result over all the batches, equal to one process's bit for bit.</summary>
    public static EvalResult Run(ResidualStream stream, ISparseCoder sae, IEnumerable<long[][]> batches, bool downstream,
        double deadTokensThreshold, int maxBatches = int.MaxValue, Action<long>? progress = null, Action<SparseCoderOutput>? observe = null,
        bool advanceDeadLatents = false, Training.IDataParallel? parallel = null)
    {
        var accumulator = new EvalAccumulator(stream.Layers, sae.NLatents, deadTokensThreshold, sae.DeadThreshold);
        long tokens = 0, index = -1;
        foreach (var batch in batches.Take(maxBatches))
        {
            index++;
            if (parallel is { Size: > 1 } ranks && !Training.DataParallel.Takes(ranks, index)) continue;
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var ids = stream.Tokens(batch);
            var both = stream.ForwardBoth(ids);
            var inputs = both.Inputs;                                              // [L, B, T, D], in the SAE's space
            using var output = sae.Forward(inputs, training: advanceDeadLatents);
            // FVU, MSE, L0, L1 in the SAE's space; the splice maps the reconstruction back and runs
            // against the model's own stream.
            var splice = downstream ? DownstreamMetrics.Compute(stream.Model, stream.Layers, both.Hidden, output.Recons, ids, stream.Hook) : null;
            using var loss = sae.Loss(inputs, output);
            accumulator.Add(inputs, output, splice, loss, index);
            observe?.Invoke(output);
            tokens += ids.numel();
            progress?.Invoke(tokens);
        }
        if (parallel is not null) accumulator.GatherOverRanks(parallel);
        return accumulator.Result() with { TunedLens = (stream.Hook as Lens.TunedLensHook)?.Lens.Reference };
    }
}

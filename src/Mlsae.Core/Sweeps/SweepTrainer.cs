using Mlsae.Data;
using Mlsae.Evaluation;
using Mlsae.Hub;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Sweeps;

/// <summary>What one member of a sweep ended with.</summary>
/// <param name="Member">The member.</param>
/// <param name="Run">Its run folder.</param>
/// <param name="Outcome">Its training outcome; null when it diverged.</param>
/// <param name="Failure">Why it stopped early (a non-finite loss), or null.</param>
/// <param name="Parameters">The coder's trainable parameter count.</param>
/// <param name="ActiveCodesPerToken">Latent activations a token gets over all its layers: L · k for the
/// MLSAE and the per-layer family (k per layer's vector), k for the crosscoder (k per token).</param>
public sealed record SweepMemberOutcome(SweepMember Member, Run Run, TrainOutcome? Outcome, string? Failure, long Parameters, long ActiveCodesPerToken);

/// <summary>
/// Trains every member of a sweep from one transformer forward per batch: the batch source gives
/// each batch once, the model computes its residual stream once, and every member takes its step on
/// that tensor, one member after another (so only one member's activations and gradients are live
/// at a time). Each member is a normal run folder (<c>&lt;sweep&gt;/&lt;kind&gt;-x&lt;e&gt;-k&lt;k&gt;</c>)
/// that ends exactly as the same run trained alone: same batches, same inputs, same seed. The sweep
/// resumes as a whole: members checkpoint at the same steps, and one killed between two members'
/// checkpoints is brought level by feeding only the members that are behind. Each member's
/// <c>timings.json</c> splits its own time; the shared data wait and transformer forward are
/// counted in the first member's. Under several ranks (<paramref name="parallel"/>) every member is
/// trained data-parallel as <c>train</c> is: micro-batch j on rank j mod N, the forward computed once
/// per micro-batch on its rank for all members, rank 0 alone writing.
/// </summary>
public sealed class SweepTrainer(ModelSession model, Func<HubClient> hub, IRunObserver observer, IDataParallel? parallel = null)
{
    readonly IDataParallel parallel = parallel ?? SingleProcess.Instance;

    /// <summary>Trains the members of <paramref name="sweep"/> (continuing each member's saved state
    /// when <paramref name="resume"/>), then validates and analyses each.</summary>
    public IReadOnlyList<SweepMemberOutcome> Train(Sweep sweep, bool resume)
    {
        var members = sweep.Members;
        if (members.Count == 0) throw new MlsaeException("sweep: no members");
        CheckMemory(members.Select(m => m.Run.Options).ToList());
        var trainers = new List<(SweepMember Member, Run Run, RunTrainer Trainer, RunTrainer.Prepared Prepared)>();
        var sessions = new List<MlsaeTrainer.TrainingSession>();
        try
        {
            foreach (var (member, run) in members)
            {
                var trainer = new RunTrainer(run, model, hub, observer, parallel);
                var prepared = trainer.Prepare(resume && run.HasState, parallel);
                trainers.Add((member, run, trainer, prepared));
                sessions.Add(prepared.Trainer.Begin(prepared.Validation, resume && run.HasState, prepared.Start));
            }
            var failures = Drive(trainers.Select(t => t.Prepared).ToList(), sessions, trainers.Select(t => t.Member).ToList(),
                members.Max(m => m.Run.Options.TotalBatches));
            var outcomes = new List<SweepMemberOutcome>();
            for (int i = 0; i < trainers.Count; i++)
            {
                var (member, run, trainer, prepared) = trainers[i];
                long parameters = prepared.Sae.Parameters.Sum(p => p.numel());
                long active = member.Kind == "crosscoder" ? member.K : (long)member.K * model.Layers.Length;
                if (failures[i] is { } failure)
                {
                    outcomes.Add(new SweepMemberOutcome(member, run, null, failure, parameters, active));
                    continue;
                }
                var final = sessions[i].End();
                if (parallel.Writes()) ResultJson.Write(run.PathOf(MlsaeTrainer.TimingsFile), prepared.Trainer.Timings.ToJson(final.Tokens - sessions[i].StartTokens));
                outcomes.Add(new SweepMemberOutcome(member, run, trainer.Finish(prepared, final), null, parameters, active));
            }
            return outcomes;
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
            foreach (var t in trainers) t.Prepared.Dispose();
        }
    }

    /// <summary>Feeds the shared stream to every member that is due for each batch; returns each
    /// member's failure (a diverged loss) or null.</summary>
    string?[] Drive(IReadOnlyList<RunTrainer.Prepared> prepared, IReadOnlyList<MlsaeTrainer.TrainingSession> sessions, IReadOnlyList<SweepMember> members, long total)
    {
        var failures = new string?[sessions.Count];
        // The members' options differ only in kind, expansion factor and k: the data, the batches
        // and the validation part are the same for all, so the first member's stream serves every one.
        var source = prepared[0];
        int behind = Enumerable.Range(0, sessions.Count).MinBy(i => sessions[i].State.Batches);
        long index = sessions[behind].State.Batches;
        var position = sessions[behind].State.Position;
        var batches = index > 0 && position is null ? source.Training.Batches(source.Start).Skip(checked((int)index)) : source.Training.Batches(index > 0 ? position : source.Start);
        observer.Progress("sweep", total, "batches", done =>
        {
            done(index);
            foreach (var batch in source.Trainer.Timings.TimeWaits(Prefetch.Ahead(batches, MlsaeTrainer.PrefetchBatches)))
            {
                var due = Enumerable.Range(0, sessions.Count).Where(i => failures[i] is null && !sessions[i].Finished && sessions[i].State.Batches == index).ToList();
                if (due.Count == 0 && Enumerable.Range(0, sessions.Count).All(i => failures[i] is not null || sessions[i].Finished)) break;
                using (var scope = NewDisposeScope())
                {
                    Tensor? inputs = due.Any(i => sessions[i].TakesNext) ? source.Trainer.Inputs(batch) : null;   // [L, B, T, D], once for all members
                    foreach (var i in due)
                    {
                        try { sessions[i].Consume(batch, inputs); }
                        catch (TrainingDivergedException e)
                        {
                            failures[i] = e.Message;
                            observer.Notice($"sweep: {members[i].Dir} stopped: {e.Message}");
                        }
                    }
                }
                done(++index);
            }
            return 0;
        });
        return failures;
    }

    /// <summary>
    /// Refuses, before allocating, a sweep the machine cannot hold: every member's float32 parameters,
    /// gradients and Adam moments stay allocated for the whole sweep, plus the largest member's dense
    /// encoder output of one batch (members step one after another).
    /// </summary>
    void CheckMemory(IReadOnlyList<TrainOptions> options)
    {
        double d = model.Model.Config.HiddenSize, layers = model.Layers.Length;
        double Latents(TrainOptions o) => d * o.Autoencoder.ExpansionFactor;
        double Copies(TrainOptions o) => o.Autoencoder.Kind == "mlsae" ? 1 : layers;   // per-layer and crosscoder hold L encoders and decoders
        double persistent = options.Sum(o => 4.0 * Latents(o) * d * 8 * Copies(o));
        double batch = options.Max(o => 4.0 * Latents(o) * layers * o.TokensPerBatch);
        double available = Tensors.MachineMemory.AvailableBytes();
        if (persistent + batch > available)
            throw new MlsaeException($"sweep: {options.Count} members need about {(persistent + batch) / 1e9:N1} GB (every member's weights, gradients and Adam moments, "
                + $"and one batch's encoder output) but this machine has {available / 1e9:N1} GB; sweep fewer members or smaller expansion factors");
    }
}

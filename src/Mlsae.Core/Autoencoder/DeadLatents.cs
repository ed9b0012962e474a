using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// How long each latent has gone without firing (a TopK value above <c>dead_threshold</c> at any
/// layer), kept two ways: the reference's <c>last_nonzero</c> (forward calls since it fired) and
/// tokens since it fired. Which one decides "dead" is the <see cref="DeadLatentRule"/>.
/// </summary>
public sealed class DeadLatents : IDisposable
{
    /// <summary>The reference's buffer: forward calls since each latent fired. // [F] int64</summary>
    public Tensor LastNonzero { get; private set; }
    /// <summary>Tokens since each latent fired. // [F] int64</summary>
    public Tensor TokensSinceFired { get; private set; }
    /// <summary>The rule that turns the counters into a dead mask.</summary>
    public DeadLatentRule Rule { get; }
    /// <summary>
    /// What the optimizer step under way has seen, for the consistent order (<see cref="Record"/>,
    /// <see cref="ApplyStep"/>): per latent the number of forward calls it fired in, then the step's
    /// token positions, then its forward calls. Data-parallel ranks sum it before the step ends, so
    /// every rank applies the union of all micro-batches' firings. // [F + 2] int64
    /// </summary>
    public Tensor StepTally { get; }

    /// <summary>Starts every counter at zero.</summary>
    public DeadLatents(long nLatents, DeadLatentRule rule, Device device)
    {
        LastNonzero = zeros(nLatents, ScalarType.Int64, device).DetachFromDisposeScope();
        TokensSinceFired = zeros(nLatents, ScalarType.Int64, device).DetachFromDisposeScope();
        StepTally = zeros(nLatents + 2, ScalarType.Int64, device).DetachFromDisposeScope();
        Rule = rule;
    }

    /// <summary>Replaces the counters (from a checkpoint).</summary>
    public void Load(Tensor? lastNonzero, Tensor? tokensSinceFired)
    {
        using var _ = no_grad();
        if (lastNonzero is not null) LastNonzero.copy_(lastNonzero);
        if (tokensSinceFired is not null) TokensSinceFired.copy_(tokensSinceFired);
    }

    /// <summary>
    /// Records one training forward call over <paramref name="tokens"/> token positions and returns
    /// the dead mask after the update (the reference computes it within the same call). // [F] bool
    /// </summary>
    public Tensor Update(TopK topk, long tokens, double deadThreshold)
    {
        using var _ = no_grad();
        var fired = zeros_like(LastNonzero)
            .scatter_add_(0, topk.Indices.reshape(-1), (topk.Values > deadThreshold).to(ScalarType.Int64).reshape(-1))
            .clamp_(max: 1);
        var kept = 1 - fired;
        LastNonzero.mul_(kept).add_(1);
        TokensSinceFired.mul_(kept).add_(tokens);
        return Mask();
    }

    /// <summary>
    /// Adds one training forward call over <paramref name="tokens"/> token positions to
    /// <see cref="StepTally"/> without touching the counters, so that every micro-batch of a step
    /// sees the same dead mask (the consistent order; the reference updates per call, <see cref="Update"/>).
    /// </summary>
    public void Record(TopK topk, long tokens, double deadThreshold)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long n = LastNonzero.shape[0];
        var fired = zeros_like(LastNonzero)
            .scatter_add_(0, topk.Indices.reshape(-1), (topk.Values > deadThreshold).to(ScalarType.Int64).reshape(-1))
            .clamp_(max: 1);
        StepTally.narrow(0, 0, n).add_(fired);
        StepTally[n].add_(tokens);
        StepTally[n + 1].add_(1);
    }

    /// <summary>
    /// Ends an optimizer step in the consistent order: a latent that fired in any of the step's
    /// calls restarts its counters, the others advance by the step's tokens and calls; the tally
    /// clears. A step with nothing recorded changes nothing.
    /// </summary>
    public void ApplyStep()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long n = LastNonzero.shape[0];
        long calls = StepTally[n + 1].item<long>();
        if (calls == 0) return;
        var kept = 1 - StepTally.narrow(0, 0, n).clamp(max: 1);
        LastNonzero.mul_(kept).add_(calls);
        TokensSinceFired.mul_(kept).add_(StepTally[n].item<long>());
        StepTally.zero_();
    }

    /// <summary>The dead mask under the current counters, without updating them. // [F] bool</summary>
    public Tensor Mask() => Rule.CountTokens
        ? TokensSinceFired >= Rule.Threshold
        : LastNonzero >= Rule.Threshold;

    /// <inheritdoc />
    public void Dispose()
    {
        LastNonzero.Dispose();
        TokensSinceFired.Dispose();
        StepTally.Dispose();
    }
}

/// <summary>When a latent counts as dead; a coder derives it from its settings
/// (<see cref="Coders.SparseCoderSettings.DeadLatentRuleFor"/>).</summary>
/// <param name="CountTokens">True: dead after <paramref name="Threshold"/> tokens without firing (the
/// default). False: the reference's rule, dead after <paramref name="Threshold"/> forward calls.</param>
/// <param name="Threshold">Tokens or calls.</param>
public sealed record DeadLatentRule(bool CountTokens, long Threshold);

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

    /// <summary>Starts every counter at zero.</summary>
    public DeadLatents(long nLatents, DeadLatentRule rule, Device device)
    {
        LastNonzero = zeros(nLatents, ScalarType.Int64, device).DetachFromDisposeScope();
        TokensSinceFired = zeros(nLatents, ScalarType.Int64, device).DetachFromDisposeScope();
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

    /// <summary>The dead mask under the current counters, without updating them. // [F] bool</summary>
    public Tensor Mask() => Rule.CountTokens
        ? TokensSinceFired >= Rule.Threshold
        : LastNonzero >= Rule.Threshold;

    /// <inheritdoc />
    public void Dispose()
    {
        LastNonzero.Dispose();
        TokensSinceFired.Dispose();
    }
}

/// <summary>When a latent counts as dead; a coder derives it from its settings
/// (<see cref="Coders.SparseCoderSettings.DeadLatentRuleFor"/>).</summary>
/// <param name="CountTokens">True: dead after <paramref name="Threshold"/> tokens without firing (the
/// default). False: the reference's rule, dead after <paramref name="Threshold"/> forward calls.</param>
/// <param name="Threshold">Tokens or calls.</param>
public sealed record DeadLatentRule(bool CountTokens, long Threshold);

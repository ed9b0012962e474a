using Mlsae.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Training;

/// <summary>
/// Adam as <c>torch.optim.Adam</c> computes it (no amsgrad), or AdamW with a decoupled weight
/// decay (<c>p ← p·(1 − lr·λ)</c> before the update, as <c>torch.optim.AdamW</c>) for the
/// parameters given as decayed. Written out so moments and step count save and load exactly:
/// <c>m ← β₁m + (1−β₁)g</c>, <c>v ← β₂v + (1−β₂)g²</c>,
/// <c>p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)</c>.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    readonly IReadOnlyList<Parameter> parameters;
    readonly IReadOnlySet<int> decayed;
    readonly System.Diagnostics.Stopwatch sinceStep = System.Diagnostics.Stopwatch.StartNew();   // the heap trim's budget

    /// <summary>Decoupled weight decay λ (AdamW) for the decayed parameters.</summary>
    public double WeightDecay { get; }

    /// <summary>Learning rate.</summary>
    public double LearningRate { get; set; }
    /// <summary>β₁.</summary>
    public double Beta1 { get; } = 0.9;
    /// <summary>β₂.</summary>
    public double Beta2 { get; } = 0.999;
    /// <summary>ε; the reference uses 6.25e-10.</summary>
    public double Eps { get; }
    /// <summary>Optimizer steps taken.</summary>
    public long Step { get; set; }
    /// <summary>First moments, one per parameter.</summary>
    public Tensor[] ExpAvg { get; }
    /// <summary>Second moments, one per parameter.</summary>
    public Tensor[] ExpAvgSq { get; }

    /// <summary>Creates the optimizer with zero moments.</summary>
    public AdamOptimizer(IReadOnlyList<Parameter> parameters, double learningRate, double eps = 6.25e-10,
        double weightDecay = 0, IReadOnlySet<int>? decayed = null)
    {
        this.parameters = parameters;
        WeightDecay = weightDecay;
        this.decayed = decayed ?? new HashSet<int>();
        LearningRate = learningRate;
        Eps = eps;
        ExpAvg = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        ExpAvgSq = parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>One update from the parameters' current gradients.</summary>
    public void StepOnce()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Step++;
        double correction1 = 1 - Math.Pow(Beta1, Step);
        double correction2 = 1 - Math.Pow(Beta2, Step);
        for (int i = 0; i < parameters.Count; i++)
        {
            var grad = parameters[i].grad;
            if (grad is null) continue;
            bool decay = WeightDecay > 0 && decayed.Contains(i);
            // In blocks (RowChunks): the denominator is a block-sized temporary, not parameter-sized
            // (at x64 the encoder and decoder are 64 MiB each); every element's arithmetic is the same.
            RowChunks.Elementwise([parameters[i], grad, ExpAvg[i], ExpAvgSq[i]], t =>
            {
                var (p, g, m, v) = (t[0], t[1], t[2], t[3]);
                if (decay) p.mul_(1 - LearningRate * WeightDecay);
                m.mul_(Beta1).add_(g, alpha: 1 - Beta1);
                v.mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
                var denom = v.sqrt().div_(Math.Sqrt(correction2)).add_(Eps);
                p.addcdiv_(m, denom, value: -LearningRate / correction1);
            });
        }
    }

    /// <summary>A coder's optimizer step in the consistent order, once its gradients are summed over the
    /// step's micro-batches (and ranks): <see cref="Coders.ISparseCoder.BeforeStep"/> (the MLSAE projects
    /// its decoder gradient), Adam, <see cref="Coders.ISparseCoder.AfterStep"/> (the decoder renormalized,
    /// the dead-latent counters given the step's firings), then the gradients cleared.</summary>
    public void StepCoder(Coders.ISparseCoder coder)
    {
        coder.BeforeStep();
        StepOnce();
        coder.AfterStep();
        ZeroGrad();
        // A large step's freed tensors go back to the OS, so the next starts from its live set.
        NativeHeap.TrimWithinBudget(sinceStep.Elapsed);
        sinceStep.Restart();
    }

    /// <summary>Clears the gradients by dropping them (<c>zero_grad(set_to_none=True)</c>, torch's
    /// default and the reference's): between steps no parameter-sized gradient is held, and the next
    /// backward hands its gradient over instead of adding it to zeros (the same values, since
    /// 0 + g = g), so the backward's peak holds one gradient per parameter, not two.</summary>
    public void ZeroGrad()
    {
        foreach (var p in parameters) p.grad = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in ExpAvg) t.Dispose();
        foreach (var t in ExpAvgSq) t.Dispose();
    }
}

using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Lens.Training;

/// <summary>
/// <c>torch.optim.SGD(momentum=β, nesterov=True, weight_decay=λ, dampening=0)</c>, the tuned-lens
/// package's optimizer: g ← ∇ + λ·p; buf ← β·buf + g (buf starts at zero, so its first value is g,
/// as PyTorch's); p ← p − lr·(g + β·buf). Momentum buffers are kept for checkpoints.
/// </summary>
public sealed class NesterovSgd(IReadOnlyList<Parameter> parameters, double momentum, double weightDecay) : IDisposable
{
    /// <summary>One momentum buffer per parameter, same shapes.</summary>
    public IReadOnlyList<Tensor> Buffers { get; } = parameters.Select(p => zeros_like(p)).ToArray();

    /// <summary>One update at <paramref name="lr"/> from the parameters' gradients (a missing gradient counts as zero).</summary>
    public void Step(double lr)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            var g = p.grad is { } grad ? grad + p * weightDecay : p * weightDecay;
            Buffers[i].mul_(momentum).add_(g);
            p.sub_((g + Buffers[i] * momentum) * lr);
        }
    }

    /// <summary>Zeroes the gradients (kept allocated, as <c>zero_grad(set_to_none=False)</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in parameters) p.grad?.zero_();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var b in Buffers) b.Dispose();
    }
}

using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// The reference's <c>figures/resid_cos_sim.py</c>, in two passes over the same data: first the
/// per-layer mean residual vector and the statistics of the vectors' L2 norms, then the cosine
/// similarity between adjacent layers' vectors after subtracting those means (each normalized
/// as x / max(‖x‖, 1e-8)), with mean, unbiased variance, std and sem per layer pair.
/// </summary>
public sealed class ResidualCosineSimilarity(int layers, int dModel)
{
    readonly RunningMoments[] means = Enumerable.Range(0, layers).Select(_ => new RunningMoments([dModel])).ToArray();
    readonly RunningMoments[] norms = Enumerable.Range(0, layers).Select(_ => new RunningMoments([1])).ToArray();
    readonly RunningMoments[] cosines = Enumerable.Range(0, Math.Max(0, layers - 1)).Select(_ => new RunningMoments([1])).ToArray();
    Tensor? centre;

    /// <summary>First pass: one batch of the residual stream. // [L, B, T, D]</summary>
    public void AddFirstPass(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var x = hidden.reshape(layers, -1, dModel);
        for (int l = 0; l < layers; l++)
        {
            means[l].Update(x[l]);
            norms[l].Update(x[l].norm(-1).unsqueeze(1));
        }
    }

    /// <summary>The per-layer means after the first pass. // [L, D]</summary>
    public double[][] Means => means.Select(m => m.Mean).ToArray();

    /// <summary>Second pass: the same batch again. // [L, B, T, D]</summary>
    public void AddSecondPass(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        if (centre is null)
        {
            centre = tensor(means.SelectMany(m => m.Mean).ToArray(), [layers, 1, dModel]).DetachFromDisposeScope();
        }
        var x = hidden.reshape(layers, -1, dModel).to(ScalarType.Float64) - centre.to(hidden.device);
        x = x / x.norm(-1, keepdim: true).clamp_min(1e-8);
        for (int l = 0; l + 1 < layers; l++)
            cosines[l].Update((x[l] * x[l + 1]).sum(-1).unsqueeze(1));
    }

    /// <summary>Cosine similarity per token between layers l and l+1 for one batch (after the first pass). // [L−1, N]</summary>
    public Tensor PerToken(Tensor hidden)
    {
        var mu = tensor(means.SelectMany(m => m.Mean).ToArray(), [layers, 1, dModel]);
        var x = hidden.reshape(layers, -1, dModel).to(ScalarType.Float64) - mu;
        x = x / x.norm(-1, keepdim: true).clamp_min(1e-8);
        return (x[..^1] * x[1..]).sum(-1);
    }

    /// <summary>L2-norm statistics per layer: mean, var, std, sem.</summary>
    public IReadOnlyList<(double Mean, double Var, double Std, double Sem)> NormStats =>
        norms.Select(n => (n.Mean[0], n.Var[0], n.Std[0], n.Sem[0])).ToList();

    /// <summary>Cosine statistics per adjacent pair (l, l+1): mean, var, std, sem.</summary>
    public IReadOnlyList<(double Mean, double Var, double Std, double Sem)> CosineStats =>
        cosines.Select(n => (n.Mean[0], n.Var[0], n.Std[0], n.Sem[0])).ToList();
}

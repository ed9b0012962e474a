using static TorchSharp.torch;

namespace Mlsae.Explorer;

/// <summary>A next-token logit at one position: the token, its logit and, for the model's own
/// predictions, its softmax probability (null for a change in logits, which has none).</summary>
/// <param name="Id">The token id.</param>
/// <param name="Logit">The logit (or the change in it).</param>
/// <param name="Prob">softmax(logits)[id], or null.</param>
public sealed record TokenLogit(long Id, double Logit, double? Prob)
{
    /// <summary>The <paramref name="k"/> largest logits of every position with their probabilities. // logits [T, V]</summary>
    public static TokenLogit[][] Top(Tensor logits, int k)
    {
        using var scope = NewDisposeScope();
        var logits32 = logits.to(ScalarType.Float32).cpu();
        var probs = logits32.softmax(-1);
        var (values, indices) = logits32.topk(Math.Min(k, (int)logits32.shape[^1]), dim: -1);      // [T, k]
        var p = probs.gather(-1, indices);
        return Rows(values, indices, p);
    }

    /// <summary>The <paramref name="k"/> largest (<paramref name="largest"/>) or smallest entries of
    /// every position, without probabilities. // change [T, V]</summary>
    public static TokenLogit[][] Extremes(Tensor change, int k, bool largest)
    {
        using var scope = NewDisposeScope();
        var c = change.to(ScalarType.Float32).cpu();
        var (values, indices) = c.topk(Math.Min(k, (int)c.shape[^1]), dim: -1, largest: largest);
        return Rows(values, indices, null);
    }

    static TokenLogit[][] Rows(Tensor values, Tensor indices, Tensor? probs)                  // [T, k] each
    {
        int t = (int)values.shape[0], k = (int)values.shape[1];
        var v = values.contiguous().data<float>().ToArray();
        var i = indices.contiguous().data<long>().ToArray();
        var p = probs?.contiguous().data<float>().ToArray();
        return Enumerable.Range(0, t).Select(row => Enumerable.Range(0, k)
            .Select(j => new TokenLogit(i[row * k + j], v[row * k + j], p is null ? null : p[row * k + j])).ToArray()).ToArray();
    }
}

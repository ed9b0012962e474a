using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// At how many layers a latent is active for one token, counted over (token, latent) pairs: a
/// latent is active at a layer when the TopK picked it there with a value above the threshold
/// (the SAE's dead threshold, as the prompt analysis counts). <see cref="SingleLayerFraction"/> is
/// the share of pairs active at ≥ 1 layer that are active at exactly one — the multi-layer
/// activity a tuned lens might change (Lawson et al. 2024, section 5).
/// </summary>
public sealed class LayerSpan(int layers, double threshold)
{
    /// <summary>(token, latent) pairs active at one layer or more.</summary>
    public long ActivePairs { get; private set; }
    /// <summary>Pairs active at exactly one layer.</summary>
    public long SingleLayerPairs { get; private set; }

    /// <summary>SingleLayerPairs / ActivePairs (NaN before any pair).</summary>
    public double SingleLayerFraction => ActivePairs == 0 ? double.NaN : (double)SingleLayerPairs / ActivePairs;

    /// <summary>Adds one batch of TopK values and indices. // [L, B, T, K] each</summary>
    public void Add(Tensor values, Tensor indices)
    {
        Tensors.Shapes.Check(values, "topk values", layers, -1, -1, -1);
        Tensors.Shapes.Check(indices, "topk indices", values.shape);
        long k = values.shape[^1];
        long n = values.shape[1] * values.shape[2];
        var v = values.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var i = indices.to(ScalarType.Int64).cpu().contiguous().data<long>().ToArray();
        var span = new Dictionary<long, int>();
        for (long token = 0; token < n; token++)
        {
            span.Clear();
            for (int l = 0; l < layers; l++)
                for (long j = (l * n + token) * k, end = j + k; j < end; j++)
                    if (v[j] > threshold) span[i[j]] = span.GetValueOrDefault(i[j]) + 1;
            ActivePairs += span.Count;
            SingleLayerPairs += span.Values.Count(c => c == 1);
        }
    }
}

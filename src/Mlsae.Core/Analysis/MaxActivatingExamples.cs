using Mlsae.Coders;
using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// For every (latent, layer), the top-N tokens by activation with a context window inside their
/// sequence, kept in memory (a bounded min-heap per pair) and written once. Ordering: larger
/// activation first, ties to the earlier token in the whole stream (sequence index, then
/// position), so shards of the data merge into exactly the single run's result.
/// </summary>
public sealed class MaxActivatingExamples(int layers, int latents, int topN = 32, int window = 4, double threshold = 1e-3)
{
    /// <summary>One example.</summary>
    /// <param name="Latent">Latent index.</param>
    /// <param name="Layer">Position in the SAE's layer list.</param>
    /// <param name="Sequence">Index of the sequence in the whole data stream.</param>
    /// <param name="Position">Token position in the sequence.</param>
    /// <param name="Act">The activation.</param>
    /// <param name="TokenIds">The window's token ids (clipped to the sequence).</param>
    /// <param name="Acts">The latent's activation at each window token (0 where it was not in the TopK).</param>
    /// <param name="Offset">Index of the token itself within the window.</param>
    public sealed record Example(int Latent, int Layer, long Sequence, int Position, float Act, long[] TokenIds, float[] Acts, int Offset);

    static readonly Comparer<Example> Worst = Comparer<Example>.Create((a, b) =>
    {
        int c = a.Act.CompareTo(b.Act);                       // smaller activation is worse
        if (c != 0) return c;
        c = b.Sequence.CompareTo(a.Sequence);                 // later is worse
        return c != 0 ? c : b.Position.CompareTo(a.Position);
    });

    readonly PriorityQueue<Example, Example>?[] heaps = new PriorityQueue<Example, Example>?[layers * latents];

    /// <summary>The examples of <paramref name="coder"/>'s codes over <paramref name="layers"/> layers: per
    /// (latent, layer), or for a coder with one code per token (a crosscoder) per latent, from its
    /// token codes (one "layer", written as <see cref="ExamplesDatabase.AllLayers"/>).</summary>
    public static MaxActivatingExamples For(ISparseCoder coder, int layers, int topN, int window) =>
        new(coder.CodesPerToken ? 1 : layers, coder.NLatents, topN, window, coder.DeadThreshold);

    /// <summary>Adds a coder's output for a batch: its raw per-layer codes, or its token codes when it has
    /// them (<see cref="SparseCoderOutput.TokenTopK"/>, for examples made by <see cref="For"/>).
    /// // tokens [B, T]; sequence indices [B]</summary>
    public void Add(long[][] tokens, SparseCoderOutput output, long[] sequences)
    {
        if (output.TokenTopK is not { } codes)
        {
            Add(tokens, output.TopKRaw, output.TopK.Indices, sequences);
            return;
        }
        if (layers != 1) throw new InvalidOperationException("token codes go into examples of one layer (MaxActivatingExamples.For)");
        using var scope = NewDisposeScope();
        Add(tokens, codes.Values.unsqueeze(0), codes.Indices.unsqueeze(0), sequences);
    }

    /// <summary>Adds a batch. // tokens [B, T]; values, indices [L, B, T, K]; sequence indices [B]</summary>
    public void Add(long[][] tokens, Tensor values, Tensor indices, long[] sequences)
    {
        long k = values.shape[^1];
        int b = tokens.Length, t = tokens[0].Length;
        var v = values.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var idx = indices.to(ScalarType.Int64).cpu().contiguous().data<long>().ToArray();
        long Cell(int l, int bi, int pos) => (((long)l * b + bi) * t + pos) * k;
        for (int l = 0; l < layers; l++)
            for (int bi = 0; bi < b; bi++)
                for (int pos = 0; pos < t; pos++)
                    for (int s = 0; s < k; s++)
                    {
                        long at = Cell(l, bi, pos) + s;
                        float act = v[at];
                        if (!(act > threshold)) continue;
                        int latent = (int)idx[at];
                        var heap = heaps[l * latents + latent] ??= new PriorityQueue<Example, Example>(Worst);
                        var candidate = new Example(latent, l, sequences[bi], pos, act, [], [], 0);
                        if (heap.Count == topN && Worst.Compare(candidate, heap.Peek()) <= 0) continue;
                        int from = Math.Max(0, pos - window), to = Math.Min(t - 1, pos + window);
                        var acts = new float[to - from + 1];
                        for (int w = from; w <= to; w++)
                            for (int s2 = 0; s2 < k; s2++)
                                if (idx[Cell(l, bi, w) + s2] == latent) acts[w - from] = v[Cell(l, bi, w) + s2];
                        candidate = candidate with { TokenIds = tokens[bi][from..(to + 1)], Acts = acts, Offset = pos - from };
                        if (heap.Count == topN) heap.DequeueEnqueue(candidate, candidate);
                        else heap.Enqueue(candidate, candidate);
                    }
    }

    /// <summary>Adds examples from elsewhere (a shard).</summary>
    public void Add(IEnumerable<Example> examples)
    {
        foreach (var e in examples)
        {
            var heap = heaps[e.Layer * latents + e.Latent] ??= new PriorityQueue<Example, Example>(Worst);
            if (heap.Count < topN) heap.Enqueue(e, e);
            else if (Worst.Compare(e, heap.Peek()) > 0) heap.DequeueEnqueue(e, e);
        }
    }

    /// <summary>Every kept example, by latent, layer, then best first.</summary>
    public IEnumerable<Example> All()
    {
        for (int f = 0; f < latents; f++)
            for (int l = 0; l < layers; l++)
                if (heaps[l * latents + f] is { } heap)
                    foreach (var e in heap.UnorderedItems.Select(x => x.Element).OrderByDescending(x => x, Worst))
                        yield return e;
    }
}

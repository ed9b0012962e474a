using static TorchSharp.torch;

namespace Mlsae.Tensors;

/// <summary>
/// Blocks of a parameter-sized tensor, so that an in-place update that needs temporaries holds one
/// block's worth at a time instead of a whole parameter's (at x64 the encoder and decoder are 64 MiB
/// each). Each element's arithmetic is the same whatever the blocks: only elementwise ops and
/// per-row reductions run on them, and blocks are whole rows.
/// </summary>
public static class RowChunks
{
    /// <summary>Elements per block: 4 MiB of float32. A multiple of every vector width, so elementwise
    /// kernels take their scalar tail only at a tensor's end, as without blocks.</summary>
    public const long Elements = 1L << 20;

    /// <summary>(start, length) of the blocks of <paramref name="rows"/> rows of
    /// <paramref name="width"/> elements each, at most <see cref="Elements"/> per block (at least one row).</summary>
    public static IEnumerable<(long Start, long Length)> Of(long rows, long width)
    {
        long step = Math.Max(1, Elements / Math.Max(1, width));
        for (long r = 0; r < rows; r += step) yield return (r, Math.Min(step, rows - r));
    }

    /// <summary>Applies the elementwise in-place update <paramref name="body"/> to aligned blocks of
    /// same-shaped contiguous tensors, each block in its own dispose scope (the whole tensors at once
    /// when they are small or not all contiguous).</summary>
    public static void Elementwise(IReadOnlyList<Tensor> tensors, Action<Tensor[]> body)
    {
        long numel = tensors[0].numel();
        if (numel <= Elements || tensors.Any(t => !t.is_contiguous() || t.numel() != numel))
        {
            using var whole = NewDisposeScope();
            body([.. tensors]);
            return;
        }
        using var scope = NewDisposeScope();
        var flat = tensors.Select(t => t.view(-1)).ToArray();   // views: updates land in the tensors
        foreach (var (start, length) in Of(numel, 1))
        {
            using var block = NewDisposeScope();
            body(flat.Select(t => t.narrow(0, start, length)).ToArray());
        }
    }
}

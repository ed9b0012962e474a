using System.IO.Hashing;
using System.Runtime.InteropServices;
using Mlsae.Training;
using static TorchSharp.torch;

namespace Mlsae.Distributed;

/// <summary>
/// Checks that every rank holds the same thing as rank 0, by a 64-bit fingerprint: at start-up, the
/// flags, the build and the data every rank reads (ranks that disagree would train different
/// models and still sum their gradients); after a step, the parameters (replicas must stay
/// bit-identical). Rank 0 reports a disagreement in one line; the others wait in a collective that
/// rank 0 never joins, until its abort ends them.
/// </summary>
public static class RankAgreement
{
    /// <summary>Fails (on rank 0) unless every rank's <paramref name="fingerprint"/> equals rank 0's;
    /// <paramref name="what"/> names what was fingerprinted.</summary>
    public static void Require(IDataParallel parallel, ulong fingerprint, string what)
    {
        if (parallel.Size == 1) return;
        var differing = Differing(parallel, fingerprint);
        if (differing.Count == 0) return;
        if (parallel.Rank == 0)
            throw new MlsaeException($"the ranks disagree on {what}: rank{(differing.Count > 1 ? "s" : "")} {string.Join(", ", differing)} of {parallel.Size} differ from rank 0");
        using var never = zeros(1, ScalarType.Int64);
        parallel.SumInPlace(never);   // rank 0 does not join: it aborts the job
        throw new MlsaeException($"the ranks disagree on {what}");
    }

    /// <summary>The ranks whose <paramref name="fingerprint"/> differs from rank 0's, on every rank.</summary>
    public static List<int> Differing(IDataParallel parallel, ulong fingerprint)
    {
        using var root = tensor(new[] { unchecked((long)fingerprint) });
        parallel.Broadcast(root);
        var flags = new long[parallel.Size];
        flags[parallel.Rank] = root.item<long>() == unchecked((long)fingerprint) ? 0 : 1;
        using var all = tensor(flags);
        parallel.SumInPlace(all);
        var sums = all.data<long>().ToArray();
        return Enumerable.Range(0, parallel.Size).Where(r => sums[r] != 0).ToList();
    }

    /// <summary>The start-up fingerprint of a training rank: the mlsae build, the run's options and
    /// the token ids of the validation batches (every rank reads them from the same data).</summary>
    public static ulong Fingerprint(TrainOptions options, IReadOnlyList<Data.TokenBatch> validation) =>
        Fingerprint(options.ToJson(), validation.SelectMany(b => b.Sequences));

    /// <summary>The fingerprint of the mlsae build, <paramref name="text"/> (options or metadata) and
    /// <paramref name="sequences"/> (token ids every rank reads alike).</summary>
    public static ulong Fingerprint(string text, IEnumerable<long[]>? sequences = null)
    {
        var hash = new XxHash64();
        var build = typeof(RankAgreement).Assembly.ManifestModule.ModuleVersionId.ToString();
        hash.Append(System.Text.Encoding.UTF8.GetBytes(build + "\n" + text));
        foreach (var sequence in sequences ?? []) hash.Append(MemoryMarshal.AsBytes(sequence.AsSpan()));
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>XxHash64 of the values of <paramref name="tensors"/> in order (float32, float64 or int64).</summary>
    public static ulong Checksum(IEnumerable<Tensor> tensors)
    {
        var hash = new XxHash64();
        foreach (var t in tensors)
        {
            using var _ = no_grad();
            void Add<T>() where T : unmanaged => TensorMemory.With<T>(t, false, (p, n) => { unsafe { hash.Append(new ReadOnlySpan<byte>((void*)p, checked((int)(n * sizeof(T))))); } });
            switch (t.dtype)
            {
                case ScalarType.Float32: Add<float>(); break;
                case ScalarType.Float64: Add<double>(); break;
                case ScalarType.Int64: Add<long>(); break;
                default: throw new ArgumentException($"Checksum: {t.dtype} tensors are not supported");
            }
        }
        return hash.GetCurrentHashAsUInt64();
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using Mlsae.IO;

namespace Mlsae.Training;

/// <summary>
/// Where a training run's wall time goes: waiting for the next batch (reading, tokenizing, packing:
/// what the background producer did not hide), the transformer forward, the coder's forward and
/// loss, the backward pass, the optimizer step (rank sums, projection, Adam, renormalization),
/// validation and checkpoints. CPU ops run synchronously, so a stopwatch around each part measures it;
/// on CUDA the kernels are asynchronous and the split would blur (the total stays right).
/// </summary>
public sealed class TrainTimings
{
    /// <summary>The parts, in pipeline order.</summary>
    public static readonly IReadOnlyList<string> Parts = ["data", "transformer", "sae_forward", "backward", "update", "validation", "checkpoint"];

    readonly double[] seconds = new double[Parts.Count];

    /// <summary>Seconds spent in <paramref name="part"/> so far.</summary>
    public double this[string part] => seconds[Index(part)];

    /// <summary>Runs <paramref name="work"/>, adding its wall time to <paramref name="part"/>.</summary>
    public T Time<T>(string part, Func<T> work)
    {
        long start = Stopwatch.GetTimestamp();
        try { return work(); }
        finally { seconds[Index(part)] += Stopwatch.GetElapsedTime(start).TotalSeconds; }
    }

    /// <summary>As <see cref="Time{T}"/> for work without a result.</summary>
    public void Time(string part, Action work) => Time(part, () => { work(); return 0; });

    /// <summary>Adds <paramref name="elapsed"/> seconds measured elsewhere to <paramref name="part"/>.</summary>
    public void Add(string part, double elapsed) => seconds[Index(part)] += elapsed;

    /// <summary><c>{"seconds": {part: s, …}, "total": s, "share": {part: fraction, …}, "tokens", "tokens_per_second"}</c>.</summary>
    public JsonObject ToJson(long tokens)
    {
        double total = seconds.Sum();
        var json = new JsonObject
        {
            ["seconds"] = new JsonObject(Parts.Select((p, i) => KeyValuePair.Create(p, (JsonNode?)Math.Round(seconds[i], 3)))),
            ["total"] = Math.Round(total, 3),
            ["share"] = new JsonObject(Parts.Select((p, i) => KeyValuePair.Create(p, JsonNumbers.Of(total > 0 ? Math.Round(seconds[i] / total, 4) : double.NaN)))),
            ["tokens"] = tokens,
            ["tokens_per_second"] = JsonNumbers.Of(total > 0 ? tokens / total : double.NaN),
        };
        return json;
    }

    /// <summary>One line: each part's share of the time.</summary>
    public string Summary()
    {
        double total = seconds.Sum();
        return total <= 0 ? "no time measured" : string.Join(", ", Parts.Select((p, i) => $"{p} {100 * seconds[i] / total:F0}%"));
    }

    static int Index(string part)
    {
        for (int i = 0; i < Parts.Count; i++) if (Parts[i] == part) return i;
        throw new ArgumentException($"unknown timing part '{part}'", nameof(part));
    }
}

/// <summary>Timing the wait for each item of an enumeration.</summary>
public static class TrainTimingsEnumeration
{
    /// <summary>The items of <paramref name="source"/>, with the time spent waiting for each added to <c>data</c>.</summary>
    public static IEnumerable<T> TimeWaits<T>(this TrainTimings timings, IEnumerable<T> source)
    {
        using var e = source.GetEnumerator();
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            bool more = e.MoveNext();
            timings.Add("data", Stopwatch.GetElapsedTime(start).TotalSeconds);
            if (!more) yield break;
            yield return e.Current;
        }
    }
}

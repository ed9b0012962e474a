using Mlsae.Data;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Training;
using Xunit;

namespace Mlsae.Tests.Data;

/// <summary>The background batch producer: same items in the same order, bounded read-ahead,
/// failures surface at the consumer, an early stop stops the producer.</summary>
public class PrefetchTests
{
    [Fact]
    public void ItYieldsTheSourceInOrderAndPassesTheProducersExceptionOn()
    {
        Assert.Equal(Enumerable.Range(0, 1000), Prefetch.Ahead(Enumerable.Range(0, 1000), 3));
        static IEnumerable<int> Failing()
        {
            yield return 1;
            throw new MlsaeException("corrupt.jsonl: line 2 is not JSON");
        }
        var seen = new List<int>();
        var e = Assert.Throws<MlsaeException>(() => { foreach (var i in Prefetch.Ahead(Failing(), 2)) seen.Add(i); });
        Assert.Equal("corrupt.jsonl: line 2 is not JSON", e.Message);
        Assert.Equal([1], seen);
    }

    [Fact]
    public void ItReadsAtMostItsCapacityAheadAndStopsWhenTheConsumerStops()
    {
        int produced = 0;
        IEnumerable<int> Counting()
        {
            for (int i = 0; ; i++)
            {
                Interlocked.Increment(ref produced);
                yield return i;
            }
        }
        using (var items = Prefetch.Ahead(Counting(), 4).GetEnumerator())
        {
            for (int i = 0; i < 10; i++) Assert.True(items.MoveNext());
            Thread.Sleep(200);   // let the producer run as far ahead as it may
            // 10 taken, 4 queued, and one more produced that waits to be queued.
            Assert.InRange(Volatile.Read(ref produced), 10, 15);
        }
        int atStop = Volatile.Read(ref produced);
        Thread.Sleep(100);
        Assert.Equal(atStop, Volatile.Read(ref produced));
    }

    [Fact]
    public void ATrainingRunWritesWhereItsTimeWent()
    {
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var r = CliRunner.Run(TinyRun.TrainArgs(TinyRun.Data(12), run, steps: 2));
        Assert.True(r.ExitCode == 0, r.Error);
        var timings = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "timings.json")))!;
        foreach (var part in Mlsae.Training.TrainTimings.Parts) Assert.True(timings["seconds"]![part]!.GetValue<double>() >= 0, part);
        Assert.True(timings["seconds"]!["transformer"]!.GetValue<double>() > 0);
        Assert.True(timings["seconds"]!["backward"]!.GetValue<double>() > 0);
        Assert.Equal(2 * 2 * 2 * 32, timings["tokens"]!.GetValue<long>());
        Assert.Contains("time: data ", r.Error);
    }
}

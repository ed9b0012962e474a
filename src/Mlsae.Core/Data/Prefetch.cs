using System.Collections.Concurrent;

namespace Mlsae.Data;

/// <summary>
/// Runs an enumeration ahead of its consumer on a background thread, holding at most
/// <c>capacity</c> items, so that reading, tokenizing and packing the next batches overlaps the
/// model and the coder working on this one. The consumer sees the same items in the same order; an
/// exception of the producer surfaces at the consumer's next item; stopping early (disposing the
/// enumerator) stops the producer. What was consumed is the consumer's business: a training state
/// records the batches the trainer took, never what the producer had read ahead.
/// </summary>
public static class Prefetch
{
    /// <summary>The items of <paramref name="source"/>, produced up to <paramref name="capacity"/> ahead.</summary>
    public static IEnumerable<T> Ahead<T>(IEnumerable<T> source, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        using var queue = new BlockingCollection<T>(capacity);
        using var stop = new CancellationTokenSource();
        Exception? failure = null;
        var producer = new Thread(() =>
        {
            try
            {
                foreach (var item in source)
                    queue.Add(item, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        }) { IsBackground = true, Name = "mlsae batch producer" };
        producer.Start();
        try
        {
            foreach (var item in queue.GetConsumingEnumerable())
                yield return item;
            producer.Join();
            if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
        finally
        {
            stop.Cancel();
            producer.Join();
        }
    }
}

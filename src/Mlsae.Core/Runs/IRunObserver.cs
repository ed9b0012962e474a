namespace Mlsae.Runs;

/// <summary>
/// How a long-running library operation reports to whoever called it: progress of a counted
/// piece of work, and one-line notices. The CLI shows bars and stderr lines; a server or a test
/// may show nothing (<see cref="RunObserver.Silent"/>).
/// </summary>
public interface IRunObserver
{
    /// <summary>Runs <paramref name="work"/>, which reports how many of <paramref name="total"/>
    /// <paramref name="unit"/> are done; <paramref name="status"/> adds a live status text.</summary>
    T Progress<T>(string title, long total, string unit, Func<Action<long>, T> work, Func<string>? status = null);

    /// <summary>A one-line notice (what was chosen, what was written, what ran out).</summary>
    void Notice(string line);
}

/// <summary>Observers that need no console.</summary>
public static class RunObserver
{
    /// <summary>Reports nothing.</summary>
    public static IRunObserver Silent { get; } = new SilentObserver();

    sealed class SilentObserver : IRunObserver
    {
        public T Progress<T>(string title, long total, string unit, Func<Action<long>, T> work, Func<string>? status = null) => work(_ => { });
        public void Notice(string line) { }
    }
}

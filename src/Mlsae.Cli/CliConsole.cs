using Spectre.Console;

namespace Mlsae.Cli;

/// <summary>Where a command writes: results to stdout, progress and errors to stderr.</summary>
public sealed class CliConsole(TextWriter stdout, TextWriter stderr) : Runs.IRunObserver
{
    /// <summary>Human-readable results.</summary>
    public TextWriter Out { get; } = stdout;

    /// <summary>Progress, notices and errors.</summary>
    public TextWriter Error { get; } = stderr;

    bool Interactive => ReferenceEquals(Error, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>Notices go to stderr, one line each.</summary>
    public void Notice(string line) => Error.WriteLine(line);

    /// <summary>
    /// Runs <paramref name="action"/>, mapping user errors (<see cref="MlsaeException"/>, file
    /// system errors) to a one-line <c>error: …</c> on stderr and exit code 1, never a stack trace.
    /// Anything else is a bug: as a last resort it becomes one line <c>error: internal error
    /// (Type): message</c> and exit code 70 (EX_SOFTWARE), with the trace only under <c>MLSAE_DEBUG=1</c>.
    /// </summary>
    public int Guard(Func<int> action)
    {
        try { return action(); }
        catch (Exception e)
        {
            Fail(Describe(e, out bool internalError));
            return internalError ? InternalError : 1;
        }
    }

    /// <summary>The one line <see cref="Guard"/> prints for <paramref name="e"/> (after <c>error: </c>):
    /// a user error's message, or <c>internal error (Type): message</c> for a bug, whose trace goes to
    /// stderr under <c>MLSAE_DEBUG=1</c>.</summary>
    public string Describe(Exception e, out bool internalError)
    {
        internalError = e is not (MlsaeException or IOException or UnauthorizedAccessException);
        if (!internalError) return e.Message;
        if (Environment.GetEnvironmentVariable("MLSAE_DEBUG") == "1") Error.WriteLine(e.ToString());
        return $"internal error ({e.GetType().Name}): {e.Message.Split('\n')[0].TrimEnd('\r')}";
    }

    /// <summary>The exit code of an unexpected failure (a bug), as sysexits' EX_SOFTWARE.</summary>
    public const int InternalError = 70;

    int Fail(string message)
    {
        Error.WriteLine("error: " + message.ReplaceLineEndings(" "));
        return 1;
    }

    /// <summary>
    /// Runs <paramref name="work"/>, which reports how many of <paramref name="total"/> units are
    /// done; shows a live bar with rate and ETA on a terminal, periodic plain lines otherwise.
    /// </summary>
    public T Progress<T>(string title, long total, string unit, Func<Action<long>, T> work, Func<string>? status = null)
    {
        string Status() => status is null ? "" : " " + status();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (Interactive)
        {
            T result = default!;
            AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) })
                .Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                    new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(title, maxValue: total);
                    result = work(done =>
                    {
                        task.Value = done;
                        task.Description = Markup.Escape($"{title} {done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):N0} {unit}/s{Status()}");
                    });
                });
            Error.WriteLine($"{title}: {total:N0} {unit} in {clock.Elapsed.TotalSeconds:F1} s ({total / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):N0} {unit}/s)");
            return result;
        }
        var lastPrint = TimeSpan.Zero;
        var value = work(done =>
        {
            if (clock.Elapsed - lastPrint < TimeSpan.FromSeconds(5) && done < total) return;
            lastPrint = clock.Elapsed;
            double rate = done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            var eta = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : TimeSpan.Zero;
            Error.WriteLine($"{title}: {done:N0}/{total:N0} {unit}, {rate:N0} {unit}/s, ETA {eta:hh\\:mm\\:ss}{Status()}");
        });
        return value;
    }
}

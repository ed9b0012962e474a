using Mlsae.Cli;
using Xunit;

namespace Mlsae.Tests.Cli;

/// <summary>Runs the real <c>mlsae</c> command tree in-process and captures its output.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    static readonly Lock EnvironmentLock = new();

    public static Result Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = MlsaeCli.Run(args, stdout, stderr);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs with environment variables set (null removes one) and restores them after.
    /// Tests that use it belong to the <see cref="EnvironmentCollection"/>, which runs alone.</summary>
    public static Result RunWithEnvironment(Dictionary<string, string?> environment, params string[] args)
    {
        lock (EnvironmentLock)
        {
            var saved = environment.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
            try
            {
                foreach (var (k, v) in environment) Environment.SetEnvironmentVariable(k, v);
                return Run(args);
            }
            finally
            {
                foreach (var (k, v) in saved) Environment.SetEnvironmentVariable(k, v);
            }
        }
    }
}

/// <summary>Tests that change process environment variables, run without parallel neighbours.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "process environment";
}

namespace Mlsae.Cli;

/// <summary>The <c>mlsae</c> executable.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args) => MlsaeCli.Run(args, Console.Out, Console.Error);
}

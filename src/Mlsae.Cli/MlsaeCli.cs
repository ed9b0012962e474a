using System.CommandLine;
using Mlsae.Cli.Commands;

namespace Mlsae.Cli;

/// <summary>Builds the command tree and runs it, turning user errors into one-line messages.</summary>
public static class MlsaeCli
{
    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var console = new CliConsole(stdout, stderr);
        var root = new RootCommand("Multi-layer sparse autoencoders (MLSAEs) on GPT-NeoX / Pythia residual streams.")
        {
            ActivationsCommand.Create(console),
            CreateModelCommand.Create(console),
            TokenizeCommand.Create(console),
            DataCommand.Create(console),
            CacheCommand.Create(console),
            TrainCommand.Create(console),
            SweepCommand.Create(console),
            EvalCommand.Create(console),
            TestCommand.Create(console),
            TrainTokenizerCommand.Create(console),
            PretrainCommand.Create(console),
            TrainLensCommand.Create(console),
            CorpusStatsCommand.Create(console),
            GenerateCorpusCommand.Create(console),
            DistsCommand.Create(console),
            VariancesCommand.Create(console),
            ResidCosSimCommand.Create(console),
            MmcsCommand.Create(console),
            EmbedCosSimCommand.Create(console),
            ExamplesCommand.Create(console),
            LatentsCommand.Create(console),
            PromptCommand.Create(console),
            ReportCommand.Create(console),
            PushCommand.Create(console),
            ServeCommand.Create(console),
            MpiCheckCommand.Create(console),
        };
        var result = root.Parse(args);
        return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }
}

using System.CommandLine;
using Mlsae.Data;
using Mlsae.Embedded;

namespace Mlsae.Cli.Commands;

/// <summary>
/// The offline default (<see cref="EmbeddedModel"/>) as the commands announce it: whenever
/// <c>--model</c> or <c>--data</c> is left out, the output says so in one line.
/// </summary>
static class EmbeddedDefaults
{
    /// <summary><paramref name="given"/>, or the embedded model (announced on stderr).</summary>
    public static string Model(string? given, CliConsole console)
    {
        if (given is not null) return given;
        console.Notice($"model: the embedded GPT-NeoX ({EmbeddedModel.ModelFolder}; see embedded/MODEL_CARD.md), as no --model was given");
        return EmbeddedModel.Name;
    }

    /// <summary><paramref name="given"/>, or the embedded corpus (announced on stderr).</summary>
    public static string Data(string? given, CliConsole console, bool heldOut = false)
    {
        if (given is not null) return given;
        var name = heldOut ? DataSource.EmbeddedHeldOut : DataSource.Embedded;
        console.Notice($"data: the embedded synthetic corpus ({name}), as no --data was given");
        return name;
    }

    /// <summary>Whether the user left <paramref name="option"/> out (so a default may be replaced).</summary>
    public static bool Implicit(ParseResult parse, Option option) => parse.GetResult(option) is not { Implicit: false };
}

using System.CommandLine;
using Mlsae.Data;

namespace Mlsae.Cli.Commands;

/// <summary>
/// The offline default: the GPT-NeoX language model trained by this project on its synthetic
/// corpus (shipped in <c>embedded/model</c>, copied beside the executable), used whenever
/// <c>--model</c> or <c>--data</c> is left out; the output says so in one line.
/// </summary>
static class EmbeddedDefaults
{
    /// <summary>The name <c>--model</c> and run.json use for it.</summary>
    public const string Name = "embedded";

    /// <summary>The model folder beside the executable.</summary>
    public static string ModelFolder => Path.Combine(AppContext.BaseDirectory, "embedded", "model");

    /// <summary><paramref name="given"/>, or the embedded model (announced on stderr).</summary>
    public static string Model(string? given, CliConsole console)
    {
        if (given is not null) return given;
        console.Error.WriteLine($"model: the embedded GPT-NeoX ({ModelFolder}; see embedded/MODEL_CARD.md), as no --model was given");
        return Name;
    }

    /// <summary><paramref name="given"/>, or the embedded corpus (announced on stderr).</summary>
    public static string Data(string? given, CliConsole console, bool heldOut = false)
    {
        if (given is not null) return given;
        var name = heldOut ? DataSource.EmbeddedHeldOut : DataSource.Embedded;
        console.Error.WriteLine($"data: the embedded synthetic corpus ({name}), as no --data was given");
        return name;
    }

    /// <summary>The folder of a <c>--model</c> value that names the embedded model, else null.</summary>
    public static string? Folder(string model)
    {
        if (model != Name) return null;
        if (!File.Exists(Path.Combine(ModelFolder, "config.json")))
            throw new MlsaeException($"the embedded model is missing from {ModelFolder} (a broken build output?); pass --model");
        return ModelFolder;
    }

    /// <summary>Whether the user left <paramref name="option"/> out (so a default may be replaced).</summary>
    public static bool Implicit(ParseResult parse, Option option) => parse.GetResult(option) is not { Implicit: false };
}

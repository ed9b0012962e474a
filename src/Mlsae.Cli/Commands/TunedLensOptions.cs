using System.CommandLine;
using Mlsae.Hub;
using Mlsae.Lens;
using Mlsae.Models;
using TorchSharp;

namespace Mlsae.Cli.Commands;

/// <summary><c>--tuned-lens</c> (and, where the command has none of its own, <c>--reference-quirks</c>)
/// on every command that reads a residual stream, and the one rule for which lens applies: an
/// explicit <c>--tuned-lens</c>, else the run's recorded lens, else the pretrained lens of a
/// reference <c>-lens</c> SAE (with the reference's quirks), else none.</summary>
sealed class TunedLensOptions(bool withQuirks = true)
{
    public Option<string?> TunedLens { get; } = new("--tuned-lens")
    {
        Description = "Tuned lens applied to each layer before the SAE: a lens folder (config.json + params.pt), a lens id of the AlignmentResearch/tuned-lens Space, "
            + "pretrained (the model's published lens; the embedded lens for the embedded model) or embedded (default: the run's lens, if any)",
    };
    public Option<bool> Quirks { get; } = new("--reference-quirks")
    {
        Description = "Apply the tuned lens as the reference does: translator i on the i-th chosen layer, the diagonal \"inverse\", special tokens zeroed before the lens",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(TunedLens);
        if (withQuirks) command.Options.Add(Quirks);
    }

    /// <summary>Whether <c>--reference-quirks</c> was given (false where the command owns that flag).</summary>
    public bool QuirksGiven(ParseResult parse) => withQuirks && parse.GetValue(Quirks);

    /// <summary>
    /// The residual-stream hook for <paramref name="modelName"/>, or null without a lens. <paramref name="sae"/>
    /// (null for model-only commands) supplies the run's recorded lens and quirks, or marks a reference
    /// <c>-lens</c> SAE, which always gets the pretrained lens and the quirks.
    /// </summary>
    public Func<ILanguageModel, int[], IResidualHook>? Hook(ParseResult parse, CliConsole console, string modelName, SaeOptions.Resolved? sae,
        Func<HubClient> hub, torch.Device device)
    {
        var lens = Choose(parse.GetValue(TunedLens), sae?.Run?.Autoencoder.TunedLens, sae?.ReferenceLens == true, sae?.Folder, modelName, hub, device, console);
        if (lens is null) return null;
        bool quirks = QuirksGiven(parse) || (sae?.Run?.Autoencoder.ReferenceQuirks ?? false) || sae?.ReferenceLens == true;
        if (sae?.ReferenceLens == true && parse.GetValue(TunedLens) is not null)
            console.Notice($"tuned lens: {sae.Folder} is a reference SAE trained on tuned-lens vectors; applying {lens.Reference} with the reference's quirks");
        return TunedLensHook.For(lens, modelName, quirks);
    }

    /// <summary>The lens that applies, loaded; announces in one line a lens that differs from the run's.</summary>
    internal static Mlsae.Lens.TunedLens? Choose(string? given, TunedLensReference? recorded, bool referenceLens, string? saeName, string modelName,
        Func<HubClient> hub, torch.Device device, CliConsole console)
    {
        if (given is not null)
        {
            var lens = TunedLensSource.Open(given, modelName, hub, device);
            if (recorded is not null && recorded.Sha256 != lens.Reference.Sha256)
                console.Notice($"--tuned-lens: using {lens.Reference} instead of the run's recorded lens {recorded}");
            else if (recorded is null && saeName is not null && !referenceLens)
                console.Notice($"--tuned-lens: using {lens.Reference}, though the SAE in {saeName} records no lens");
            return lens;
        }
        if (recorded is not null) return TunedLensSource.OpenRecorded(recorded, modelName, hub, device);
        if (!referenceLens) return null;
        var pretrained = TunedLensSource.Open(TunedLensSource.Pretrained, modelName, hub, device);
        console.Notice($"tuned lens: {saeName} is a reference SAE trained on tuned-lens vectors; applying the pretrained lens {pretrained.Reference} with the reference's quirks "
            + "(translator i on the i-th layer, diagonal inverse, special tokens zeroed first)");
        return pretrained;
    }
}

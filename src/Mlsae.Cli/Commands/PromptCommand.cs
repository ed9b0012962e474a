using System.CommandLine;
using static TorchSharp.torch;
using Mlsae.Models;
using Mlsae.Analysis;
using Mlsae.Reports;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae prompt</c>: one prompt's latents by layer (the reference's prompt heatmap data) and per token.</summary>
public static class PromptCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var sae = new SaeOptions();
        var text = new Option<string>("--text") { Description = "The prompt", Required = true };
        var output = new Option<string>("--out") { Description = "Output JSON (a PNG heatmap is written beside it)", Required = true };
        var device = CommonOptions.Device();
        var noSkip = CommonOptions.NoSkipSpecialTokens();
        var lens = new TunedLensOptions();
        var order = HeatmapFlags.Order();
        var view = HeatmapFlags.View();
        var command = new Command("prompt", "For one prompt, each active latent's activation by layer (summed over tokens) and the latents of every token") { model, revision, text, output, device, noSkip, order, view };
        sae.AddTo(command);
        lens.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var (dev, _) = CommonOptions.ParseCompute(parse.GetValue(device)!, "float32");
            using var resolved = sae.Load(parse, console, dev);
            var modelName = resolved.Model(parse.GetValue(model)) ?? EmbeddedDefaults.Model(null, console);
            var hub = CliHub.Lazy(console);
            using var context = ModelSession.Open(modelName, parse.GetValue(revision)!,
                resolved.LayerList(null), dev, ScalarType.Float32, !parse.GetValue(noSkip) && (resolved.Run?.Model.SkipSpecialTokens ?? true), hub,
                lens.Hook(parse, console, modelName, resolved, hub, dev));
            resolved.CheckLayers(context.Layers);
            var tokenizer = context.Tokenizer;
            var path = parse.GetValue(output)!;
            var analysis = PromptAnalysis.Compute(resolved.Autoencoder, context.Stream, tokenizer, parse.GetValue(text)!, context.Name, resolved.Folder);
            analysis.Save(path);
            var png = RunFigures.Prompt(analysis, path, HeatmapFlags.ViewOf(parse, view), HeatmapFlags.OrderOf(parse, order));
            console.Out.WriteLine($"wrote {path}{(png is null ? "" : $" and {png}")}: {analysis.Tokens.Count} tokens, {analysis.Latents.Count} active latents");
            return 0;
        }));
        return command;
    }
}

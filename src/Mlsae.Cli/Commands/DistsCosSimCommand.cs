using System.CommandLine;
using Mlsae.Analysis;
using Mlsae.Reports;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae dists cos-sim</c>: the reference's <c>dists_cos_sim_heatmaps</c>, the mean-layer
/// difference against the decoder cosine similarity of every pair of latents.</summary>
public static class DistsCosSimCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var sae = new SaeOptions();
        var dists = new Option<string>("--dists") { Description = "The SAE's dists file (written by mlsae dists or train)", Required = true };
        var range = new Option<double>("--cos-range") { Description = "Cosine similarities binned over ±this (the reference's 0.25)", DefaultValueFactory = _ => DistsCosSim.DefaultCosRange };
        var output = new Option<string>("--out") { Description = "Output JSON (bin edges and counts); the PNG is written beside it", Required = true };
        var layer = CommonOptions.DecoderLayer();
        var command = new Command("cos-sim", "2-D histogram of |Δ mean layer| against decoder cosine similarity over pairs of latents") { dists, range, output, layer };
        sae.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var distsPath = parse.GetValue(dists)!;
            var (loaded, metadata) = LayerDists.Load(distsPath);
            using var resolved = sae.Load(parse, console, TorchSharp.torch.CPU);
            var coder = resolved.Autoencoder;
            if (coder.Kind == Coders.PerLayer.PerLayerFamily.KindName)
                throw new MlsaeException($"--sae: every latent of the per-layer family in {resolved.Folder} lives at its own SAE's layer, so the pairs of one decoder all have mean-layer difference 0; dists cos-sim has nothing to show");
            if (coder.NLatents != loaded.Latents)
                throw new MlsaeException($"--dists: {distsPath} has {loaded.Latents} latents but the SAE {resolved.Folder} has {coder.NLatents}");
            using var decoder = resolved.Decoder("dists cos-sim", parse.GetValue(layer));
            var result = DistsCosSim.Compute(decoder.Weight, loaded.Stats().LayerMean, loaded.Layers, parse.GetValue(range));
            var path = parse.GetValue(output)!;
            var meta = new Dictionary<string, string>(metadata) { ["dists"] = distsPath };
            if (parse.GetValue(layer) is int at) meta["decoder_layer"] = at.ToString(System.Globalization.CultureInfo.InvariantCulture);
            result.Save(path, meta);
            var png = Path.ChangeExtension(path, ".png");
            DistsFigures.CosSim(result, $"Mean-layer difference vs decoder cosine similarity — {RunFigures.Name(metadata)}", png);
            console.Out.WriteLine($"wrote {path} and {png}: {result.Pairs:N0} pairs of {result.ActiveLatents} active latents, {result.PairsInRange:N0} in range");
            return 0;
        }));
        return command;
    }
}

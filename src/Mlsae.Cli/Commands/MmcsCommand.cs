using System.CommandLine;
using Mlsae.Analysis;
using Mlsae.Evaluation;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae mmcs</c>: mean max cosine similarity between the decoder's latent vectors.</summary>
public static class MmcsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var sae = new SaeOptions();
        var output = new Option<string?>("--out") { Description = "Output JSON: mmcs, mmcs_reference, their mean/var/std/sem, and the per-latent max cosine similarities" };
        var layer = CommonOptions.DecoderLayer();
        var command = new Command("mmcs", "Mean max cosine similarity between decoder latent vectors (chunked, bounded memory)") { output, layer };
        sae.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            using var resolved = sae.Load(parse, console, TorchSharp.torch.CPU);
            using var decoder = resolved.Decoder("mmcs", parse.GetValue(layer));
            var result = new MmcsResult(resolved.Folder, Mmcs.MaxCosine(decoder.Weight), Mmcs.MaxCosineReference(decoder.Weight))
            {
                Layer = parse.GetValue(layer), FirstLatent = decoder.FirstLatent,
            };
            if (parse.GetValue(output) is string path) result.Save(path);
            var (_, _, std, sem) = MmcsResult.Stats(result.MaxCosSim);
            console.Out.WriteLine($"MMCS {EvalSummary.Format(result.Value)} (std {EvalSummary.Format(std)}, sem {EvalSummary.Format(sem)}), "
                + $"the reference's (earlier latents only) {EvalSummary.Format(result.ReferenceValue)}, over {result.MaxCosSim.Length} latents");
            return 0;
        }));
        return command;
    }
}

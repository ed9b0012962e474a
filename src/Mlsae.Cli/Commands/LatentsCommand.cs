using Mlsae.Analysis;
using System.CommandLine;
using Mlsae.IO;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae latents</c>: export the TopK indices and values [L, B, T, K] for analysis elsewhere.</summary>
public static class LatentsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions(defaultMaxTokens: 65_536);
        var output = new Option<string>("--out") { Description = "Output safetensors", Required = true };
        var command = new Command("latents", "Export the TopK latent indices and raw values [L, B, T, K] and the token ids [B, T]") { output };
        analysis.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            using var session = analysis.Open(parse, console);
            var sae = session.Sae;
            var values = new List<Tensor>();
            var indices = new List<Tensor>();
            var tokens = new List<Tensor>();
            var tokenValues = new List<Tensor>();       // a crosscoder's token codes [B, T, K]
            var tokenIndices = new List<Tensor>();
            try
            {
                foreach (var batch in session.Batches())
                {
                    using var scope = NewDisposeScope();
                    using var _ = no_grad();
                    var ids = session.Stream.Tokens(batch.Sequences);
                    using var output = sae.Forward(session.Stream.Forward(ids), training: false);
                    values.Add(output.TopKRaw.cpu().MoveToOuterDisposeScope());
                    indices.Add(output.TopK.Indices.cpu().MoveToOuterDisposeScope());
                    tokens.Add(ids.cpu().MoveToOuterDisposeScope());
                    if (output.TokenTopK is { } codes)
                    {
                        tokenValues.Add(codes.Values.cpu().MoveToOuterDisposeScope());
                        tokenIndices.Add(codes.Indices.cpu().MoveToOuterDisposeScope());
                    }
                }
                if (values.Count == 0) throw new MlsaeException("latents: no data (the source holds no full sequence)");
                using var all = NewDisposeScope();
                var v = cat(values, 1);
                var written = new Dictionary<string, Tensor> { ["values"] = v, ["indices"] = cat(indices, 1), ["input_ids"] = cat(tokens, 0) };
                if (tokenValues.Count > 0)
                {
                    written["token_values"] = cat(tokenValues, 0);
                    written["token_indices"] = cat(tokenIndices, 0);
                }
                SafeTensorsWriter.Write(parse.GetValue(output)!, written, session.Metadata());
                console.Out.WriteLine($"wrote {parse.GetValue(output)}: values and indices {Shapes.Format(v.shape)} for layers [{string.Join(", ", session.Model.Layers)}]");
            }
            finally
            {
                foreach (var t in values.Concat(indices).Concat(tokens).Concat(tokenValues).Concat(tokenIndices)) t.Dispose();
            }
            return 0;
        }));
        return command;
    }
}

using System.CommandLine;
using Mlsae.Activations;
using Mlsae.Data;
using Mlsae.Embedded;
using Mlsae.Hub;
using Mlsae.IO;
using Mlsae.Lens;
using Mlsae.Models;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae activations</c>: export the residual stream (and optionally logits and loss)
/// of a language model for pre-tokenized input, as safetensors.</summary>
public static class ActivationsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var input = new Option<string?>("--input") { Description = "JSONL, one sequence per line as {\"input_ids\": [..]}, all of one length" };
        var data = new DataOptions();
        var text = new Option<string?>("--text") { Description = "One text, tokenized as it stands, as the only sequence" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer for --data/--text (default: the model's)" };
        var limit = new Option<int>("--limit") { Description = "Sequences to take from --data", DefaultValueFactory = _ => 64 };
        var output = new Option<string>("--out") { Description = "Output safetensors file", Required = true };
        var layers = CommonOptions.Layers();
        var logits = new Option<bool>("--logits") { Description = "Also write logits [B, T, V] and the mean next-token loss" };
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per forward pass", DefaultValueFactory = _ => 8 };
        var device = CommonOptions.Device();
        var dtype = CommonOptions.DType();
        var noSkip = CommonOptions.NoSkipSpecialTokens();
        var allowNonFinite = CommonOptions.AllowNonFiniteWeights();
        var lens = new TunedLensOptions();
        var command = new Command("activations", "Export residual-stream activations [L, B, T, D] of a language model for token ids, text or a data source")
        {
            model, revision, input, text, tokenizer, limit, output, layers, logits, batchSize, device, dtype, noSkip, allowNonFinite,
        };
        data.AddTo(command);
        lens.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var (dev, type) = CommonOptions.ParseCompute(parse.GetValue(device)!, parse.GetValue(dtype)!);
            var outPath = parse.GetValue(output)!;
            var modelName = EmbeddedDefaults.Model(parse.GetValue(model), console);
            if (modelName == EmbeddedModel.Name) data.ImplicitMaxLength = EmbeddedModel.RunDefaults.Data.MaxLength;
            var hub = CliHub.Lazy(console);
            using var session = ModelSession.Open(modelName, parse.GetValue(revision)!, parse.GetValue(layers), dev, type, !parse.GetValue(noSkip), hub,
                lens.Hook(parse, console, modelName, null, hub, dev), allowNonFiniteWeights: parse.GetValue(allowNonFinite));
            var sequences = ReadSequences(parse, input, text, data, tokenizer, limit, session, hub, console);
            var languageModel = session.Model;
            var selected = session.Layers;
            var special = session.Special;
            bool withLogits = parse.GetValue(logits);
            long tokens = sequences.Count * (long)sequences[0].Length;
            using var result = console.Progress("activations", tokens, "tokens", report =>
                ActivationsExporter.Run(languageModel, sequences, selected, special, withLogits, parse.GetValue(batchSize),
                    done => report(done * (long)sequences[0].Length), session.Stream.Hook));
            var tensors = new Dictionary<string, Tensor> { ["hidden_states"] = result.HiddenStates };
            if (withLogits) { tensors["logits"] = result.Logits!; tensors["loss"] = result.Loss!; }
            var metadata = new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["model"] = modelName,
                ["layers"] = string.Join(",", selected),
                ["dtype"] = DTypes.Name(type),
                ["skip_special_tokens"] = (special is not null).ToString().ToLowerInvariant(),
            };
            if (session.Stream.Hook is TunedLensHook hooked)
            {
                metadata["tuned_lens"] = System.Text.Json.JsonSerializer.Serialize(hooked.Lens.Reference);
                metadata["reference_quirks"] = hooked.ReferenceQuirks.ToString().ToLowerInvariant();
            }
            SafeTensorsWriter.Write(outPath, tensors, metadata);
            console.Out.WriteLine($"wrote {outPath}: hidden_states {Shapes.Format(result.HiddenStates.shape)} for layers [{string.Join(", ", selected)}]"
                + (withLogits ? $", logits {Shapes.Format(result.Logits!.shape)}, loss {result.Loss!.item<float>():F4}" : ""));
            return 0;
        }));
        return command;
    }

    static List<long[]> ReadSequences(ParseResult parse, Option<string?> input, Option<string?> text, DataOptions data,
        Option<string?> tokenizer, Option<int> limit, ModelSession session, Func<HubClient> hub, CliConsole console)
    {
        var given = new[] { parse.GetValue(input) is not null, parse.GetValue(text) is not null, parse.GetValue(data.Data) is not null };
        if (given.Count(g => g) > 1) throw new MlsaeException("give at most one of --input, --text and --data");
        if (parse.GetValue(input) is string path) return TokenIdsJsonl.Read(path);
        Tokenization.Tokenizer LoadTokenizer() => parse.GetValue(tokenizer) is string t
            ? Tokenization.Tokenizer.Load(ModelResolver.ResolveTokenizer(t, "main", hub)) : session.Tokenizer;
        if (parse.GetValue(text) is string prompt)
        {
            var ids = LoadTokenizer().Encode(prompt).Select(i => (long)i).ToArray();
            if (ids.Length == 0) throw new MlsaeException("--text: the text has no tokens");
            return [ids];
        }
        if (!given.Any(g => g)) EmbeddedDefaults.Data(null, console, heldOut: true);
        int cap = parse.GetValue(limit);
        if (cap <= 0) throw new MlsaeException($"--limit must be positive, got {cap}");
        var source = data.Source(parse, LoadTokenizer, hub, fallback: DataSource.EmbeddedHeldOut);
        var report = source.Report;
        var sequences = source.Sequences().Take(cap).Select(s => s.Ids).ToList();
        if (sequences.Count == 0) throw new MlsaeException($"--data: no sequences of {data.ParseMaxLength(parse)} tokens ({report.Summary()})");
        console.Error.WriteLine($"data: {sequences.Count} sequences ({report.Summary()})");
        return sequences;
    }
}

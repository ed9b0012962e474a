using System.CommandLine;
using System.Text.Json;
using Mlsae.Data;
using Mlsae.Evaluation;
using Mlsae.IO;
using Mlsae.Models;
using Spectre.Console;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae eval</c>: reconstruction, sparsity and downstream metrics of an MLSAE on data.</summary>
public static class EvalCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var model = new Option<string?>("--model") { Description = "Local HF model folder or hub id (default: the run's)" };
        var revision = CommonOptions.Revision();
        var layers = CommonOptions.Layers();
        var sae = new SaeOptions();
        var data = new DataOptions();
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per batch", DefaultValueFactory = _ => 1 };
        var maxTokens = new Option<long>("--max-tokens") { Description = "Tokens to evaluate on", DefaultValueFactory = _ => 1_000_000 };
        var deadTokens = new Option<long?>("--dead-tokens-threshold") { Description = "Dead if selected fewer than tokens / this times (default: the run's, else 10M)" };
        var noDownstream = new Option<bool>("--no-downstream") { Description = "Skip the downstream metrics (ΔCE loss, KL, logit MSE)" };
        var output = new Option<string>("--out") { Description = "Metrics JSON", Required = true };
        var device = CommonOptions.Device();
        var dtype = CommonOptions.DType();
        var noSkip = CommonOptions.NoSkipSpecialTokens();
        var command = new Command("eval", "Evaluate an MLSAE: FVU, MSE, L1, L0, ΔCE loss, KL, logit MSE per layer, and the dead fraction")
        {
            model, revision, layers, batchSize, maxTokens, deadTokens, noDownstream, output, device, dtype, noSkip,
        };
        sae.AddTo(command);
        data.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var (dev, _) = CommonOptions.ParseCompute(parse.GetValue(device)!, parse.GetValue(dtype)!);
            using var resolved = sae.Load(parse, console, dev);
            var run = resolved.Run;
            using var context = ModelContext.Open(resolved.Model(parse.GetValue(model)) ?? EmbeddedDefaults.Model(null, console), parse.GetValue(revision)!, resolved.LayerList(parse.GetValue(layers)),
                parse.GetValue(device)!, parse.GetValue(dtype)!, !parse.GetValue(noSkip) && (run?.SkipSpecialTokens ?? true), console);
            if (context.Model.Config.HiddenSize != resolved.Autoencoder.NInputs)
                throw new MlsaeException($"--sae: the SAE reads {resolved.Autoencoder.NInputs}-dimensional vectors but {context.Name} has hidden_size {context.Model.Config.HiddenSize}");
            int batch = parse.GetValue(batchSize);
            if (batch <= 0) throw new MlsaeException($"--batch-size must be positive, got {batch}");
            long tokens = parse.GetValue(maxTokens);
            if (tokens <= 0) throw new MlsaeException($"--max-tokens must be positive, got {tokens}");
            data.ImplicitMaxLength = run?.MaxLength;
            int maxLength = data.ParseMaxLength(parse);
            var source = data.Source(parse, context.Tokenizer, () => ActivationsCommand.NewHubClient(console), batch,
                EmbeddedDefaults.Data(parse.GetValue(data.Data), console, heldOut: true));
            int maxBatches = (int)Math.Min(int.MaxValue, (tokens + (long)batch * maxLength - 1) / ((long)batch * maxLength));
            var result = console.Progress("eval", (long)maxBatches * batch * maxLength, "tokens", done =>
                MlsaeEvaluator.Run(context.Stream, resolved.Autoencoder, source.Batches().Select(b => b.Sequences), !parse.GetValue(noDownstream),
                    parse.GetValue(deadTokens) ?? run?.DeadTokensThreshold ?? 10_000_000, maxBatches, done));
            Write(result, parse.GetValue(output)!, console);
            Print(result, console);
            return 0;
        }));
        return command;
    }

    /// <summary>Writes the metrics JSON atomically.</summary>
    internal static void Write(EvalResult result, string path, CliConsole console) =>
        AtomicFile.WriteText(path, result.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

    /// <summary>Prints the per-layer table.</summary>
    internal static void Print(EvalResult result, CliConsole console)
    {
        var (headers, rows) = EvalSummary.Table(result);
        var table = new Table().Border(TableBorder.Simple);
        foreach (var h in headers) table.AddColumn(new TableColumn(Markup.Escape(h)).RightAligned());
        foreach (var row in rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Out), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        ansi.Write(table);
        console.Out.WriteLine($"dead fraction {EvalSummary.Format(result.DeadFraction)} over {result.Tokens:N0} tokens, layers [{string.Join(", ", result.Layers)}]");
    }
}

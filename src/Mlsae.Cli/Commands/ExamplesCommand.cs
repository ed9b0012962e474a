using System.CommandLine;
using Mlsae.Analysis;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae examples</c>: the top-N max-activating tokens of every (latent, layer), in SQLite; <c>examples merge</c> for shards.</summary>
public static class ExamplesCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions();
        var top = new Option<int>("--top") { Description = "Examples per (latent, layer)", DefaultValueFactory = _ => 32 };
        var window = new Option<int>("--window") { Description = "Context tokens each side (within the sequence)", DefaultValueFactory = _ => 4 };
        var output = new Option<string>("--out") { Description = "Output SQLite database", Required = true };
        var command = new Command("examples", "Max-activating examples of every latent at every layer, with context, into SQLite") { top, window, output };
        analysis.AddTo(command);
        var distributed = new DistributedOptions();
        distributed.AddTo(command);
        command.SetAction(parse => console.Guard(() => distributed.Run(parse, console, world =>
        {
            int n = parse.GetValue(top), w = parse.GetValue(window);
            if (n <= 0) throw new MlsaeException($"--top must be positive, got {n}");
            if (w < 0) throw new MlsaeException($"--window must not be negative, got {w}");
            var (ranks, log) = distributed.Start(parse, console, world);
            using var session = analysis.OpenAgreed(parse, log, ranks, null, $"top={n}", $"window={w}");
            var sae = session.Sae;
            var layers = session.Model.Layers;
            // A crosscoder's examples are per latent (one code per token for all layers).
            var examples = MaxActivatingExamples.For(sae, layers.Length, n, w);
            session.Encode("examples", log, (batch, output) => examples.Add(batch.Sequences, output, batch.Indices));
            if (ranks is not null)
            {
                Distributed.ExamplesReduction.GatherOverRanks(examples, ranks);
                if (!ranks.Writes()) return 0;   // rank 0 writes the merge
            }
            var meta = session.Metadata();
            meta["top"] = n.ToString();
            meta["window"] = w.ToString();
            Write(parse.GetValue(output)!, examples, session.Model.Tokenizer, ExamplesDatabase.LayersOf(sae, layers), meta, log);
            return 0;
        })));
        command.Subcommands.Add(Merge(console));
        return command;
    }

    static void Write(string path, MaxActivatingExamples examples, Tokenization.Tokenizer tokenizer, IReadOnlyList<int> layers,
        IReadOnlyDictionary<string, string> meta, CliConsole console)
    {
        var all = examples.All().ToList();
        ExamplesDatabase.Write(path, all, id => tokenizer.Decode([(int)id]), id => tokenizer.IdToToken((int)id) ?? "", layers, meta);
        console.Out.WriteLine(layers is [ExamplesDatabase.AllLayers]
            ? $"wrote {path}: {all.Count:N0} examples for {all.Select(e => e.Latent).Distinct().Count():N0} latents (one code per token for all layers)"
            : $"wrote {path}: {all.Count:N0} examples for {all.Select(e => (e.Latent, e.Layer)).Distinct().Count():N0} (latent, layer) pairs");
    }

    static Command Merge(CliConsole console)
    {
        var inputs = new Argument<string[]>("inputs") { Description = "examples databases of disjoint shards: files or dataset hub ids (as mlsae push writes)", Arity = ArgumentArity.OneOrMore };
        var model = CommonOptions.Model();
        var output = new Option<string>("--out") { Description = "Merged database", Required = true };
        var command = new Command("merge", "Merge examples of shards into exactly the single run's top-N") { inputs, model, output };
        command.SetAction(parse => console.Guard(() =>
        {
            var hub = CliHub.Lazy(console);
            var files = parse.GetValue(inputs)!.Select(i => ExamplesDataset.Resolve(i, "examples merge", hub)).ToList();
            var (merged, meta, layers) = ShardMerge.Examples(files);
            var modelName = parse.GetValue(model) ?? meta.GetValueOrDefault("model") ?? throw new MlsaeException($"{files[0]}: no \"model\" in its metadata; pass --model");
            var folder = Embedded.EmbeddedModel.Folder(modelName) ?? Hub.ModelResolver.Resolve(modelName, "main", hub);
            Write(parse.GetValue(output)!, merged, Tokenization.Tokenizer.Load(folder), layers, meta, console);
            return 0;
        }));
        return command;
    }
}

using System.CommandLine;
using Mlsae.Analysis;

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
        command.SetAction(parse => console.Guard(() =>
        {
            int n = parse.GetValue(top), w = parse.GetValue(window);
            if (n <= 0) throw new MlsaeException($"--top must be positive, got {n}");
            if (w < 0) throw new MlsaeException($"--window must not be negative, got {w}");
            using var session = analysis.Open(parse, console);
            var sae = session.Sae;
            var layers = session.Model.Layers;
            var examples = new MaxActivatingExamples(layers.Length, sae.NLatents, n, w, sae.DeadThreshold);
            session.Encode("examples", console, (batch, output) => examples.Add(batch.Sequences, output.TopKRaw, output.TopK.Indices, batch.Indices));
            var meta = session.Metadata();
            meta["top"] = n.ToString();
            meta["window"] = w.ToString();
            Write(parse.GetValue(output)!, examples, session.Model.Tokenizer, layers, meta, console);
            return 0;
        }));
        command.Subcommands.Add(Merge(console));
        return command;
    }

    static void Write(string path, MaxActivatingExamples examples, Tokenization.Tokenizer tokenizer, IReadOnlyList<int> layers,
        IReadOnlyDictionary<string, string> meta, CliConsole console)
    {
        var all = examples.All().ToList();
        ExamplesDatabase.Write(path, all, id => tokenizer.Decode([(int)id]), id => tokenizer.IdToToken((int)id) ?? "", layers, meta);
        console.Out.WriteLine($"wrote {path}: {all.Count:N0} examples for {all.Select(e => (e.Latent, e.Layer)).Distinct().Count():N0} (latent, layer) pairs");
    }

    static Command Merge(CliConsole console)
    {
        var inputs = new Argument<string[]>("inputs") { Description = "examples databases of disjoint shards", Arity = ArgumentArity.OneOrMore };
        var model = CommonOptions.Model();
        var output = new Option<string>("--out") { Description = "Merged database", Required = true };
        var command = new Command("merge", "Merge examples of shards into exactly the single run's top-N") { inputs, model, output };
        command.SetAction(parse => console.Guard(() =>
        {
            var files = parse.GetValue(inputs)!;
            var meta = ReadMetadata(files[0]);
            var layers = meta["layers"].Split(',').Select(int.Parse).ToArray();
            int top = int.Parse(meta["top"]), window = int.Parse(meta["window"]);
            int latents = 0;
            var all = new List<MaxActivatingExamples.Example>();
            foreach (var file in files)
            {
                var m = ReadMetadata(file);
                foreach (var key in new[] { "model", "sae", "layers", "top", "window", "max_length" })
                    if (m.GetValueOrDefault(key) != meta.GetValueOrDefault(key))
                        throw new MlsaeException($"{file}: {key} '{m.GetValueOrDefault(key)}' differs from {files[0]}'s '{meta.GetValueOrDefault(key)}'");
                var read = ExamplesDatabase.Read(file, layers);
                latents = Math.Max(latents, read.Count == 0 ? 0 : read.Max(e => e.Latent) + 1);
                all.AddRange(read);
            }
            var merged = new MaxActivatingExamples(layers.Length, latents, top, window);
            merged.Add(all);
            meta["shard"] = "0/1";
            var modelName = parse.GetValue(model) ?? meta["model"];
            var folder = Embedded.EmbeddedModel.Folder(modelName) ?? Hub.ModelResolver.Resolve(modelName, "main", CliHub.Lazy(console)());
            Write(parse.GetValue(output)!, merged, Tokenization.Tokenizer.Load(folder), layers, meta, console);
            return 0;
        }));
        return command;
    }

    static Dictionary<string, string> ReadMetadata(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        try
        {
            using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var select = connection.CreateCommand();
            select.CommandText = "SELECT key, value FROM metadata";
            using var reader = select.ExecuteReader();
            var meta = new Dictionary<string, string>();
            while (reader.Read()) meta[reader.GetString(0)] = reader.GetString(1);
            return meta;
        }
        catch (Microsoft.Data.Sqlite.SqliteException e) { throw MlsaeException.From($"{path}: not an examples database", e); }
    }
}

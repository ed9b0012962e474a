using System.CommandLine;
using Mlsae.Data;
using Mlsae.Tokenization;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae train-tokenizer</c>: a byte-level BPE saved as an HF GPT-NeoX-style tokenizer.json.</summary>
public static class TrainTokenizerCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var data = new DataOptions();
        var vocab = new Option<int>("--vocab-size") { Description = "Vocabulary size including the 2 special tokens and 256 bytes", DefaultValueFactory = _ => 2048 };
        var documents = new Option<int>("--documents") { Description = "Documents to learn from", DefaultValueFactory = _ => 20_000 };
        var output = new Option<string>("--out") { Description = "Folder for tokenizer.json, tokenizer_config.json, special_tokens_map.json", Required = true };
        var command = new Command("train-tokenizer", "Train a byte-level BPE tokenizer (HF tokenizer.json, GPT-NeoX layout) on a corpus") { vocab, documents, output };
        data.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            int count = parse.GetValue(documents);
            if (count <= 0) throw new MlsaeException($"--documents must be positive, got {count}");
            var name = parse.GetValue(data.Data) ?? DataSource.Embedded;
            var source = new DataSource(name, parse.GetValue(data.Split)!, parse.GetValue(data.Revision)!);
            if (parse.GetValue(data.Data) is null) console.Error.WriteLine("data: the embedded synthetic corpus (no --data given)");
            var report = new DataReport();
            var docs = source.Documents(CliHub.Lazy(console),
                data.Documents(parse), report).Take(count);
            var result = BpeTrainer.Train(docs, parse.GetValue(vocab));
            var outDir = parse.GetValue(output)!;
            BpeTrainer.Save(result, outDir, Path.GetFileName(Path.GetFullPath(outDir).TrimEnd('/')), data.ParseMaxLength(parse));
            console.Out.WriteLine($"wrote {outDir}: {result.Vocab.Count} tokens ({result.Merges.Count} merges) from {report.Summary()}");
            return 0;
        }));
        return command;
    }
}

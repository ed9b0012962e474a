using System.CommandLine;
using System.Text;
using System.Text.Json;
using Mlsae.Data;
using Mlsae.Hub;
using Mlsae.IO;
using Mlsae.Tokenization;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae data</c>: write the reference's training sequences for a text source as
/// <c>{"input_ids": [..]}</c> lines — the same packing training uses.</summary>
public static class DataCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var data = new Option<string>("--data") { Description = ".txt, .jsonl or .jsonl.zst file, a folder of them, or a glob", Required = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json, a folder holding it, or a hub id", Required = true };
        var revision = CommonOptions.Revision();
        var textField = new Option<string>("--text-field") { Description = "JSON field holding the document text", DefaultValueFactory = _ => "text" };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per sequence (the reference's default is 2048)", DefaultValueFactory = _ => 2048 };
        var limit = new Option<int?>("--limit") { Description = "Stop after this many sequences" };
        var output = new Option<string>("--out") { Description = "Output JSONL", Required = true };
        var command = new Command("data", "Pack text documents into the reference's fixed-length training sequences")
        {
            data, tokenizer, revision, textField, maxLength, limit, output,
        };
        command.SetAction(parse => console.Guard(() =>
        {
            var tok = Tokenizer.Load(ModelResolver.ResolveTokenizer(parse.GetValue(tokenizer)!, parse.GetValue(revision)!,
                ActivationsCommand.NewHubClient(console)));
            int eos = tok.TokenToId("<|endoftext|>") ?? throw new MlsaeException($"{tok.Source}: no <|endoftext|> token to join documents with");
            int max = parse.GetValue(maxLength);
            if (max <= 0) throw new MlsaeException($"--max-length must be positive, got {max}");
            int? cap = parse.GetValue(limit);
            if (cap is <= 0) throw new MlsaeException($"--limit must be positive, got {cap}");
            var documents = TextDocuments.Read(parse.GetValue(data)!, parse.GetValue(textField)!);
            var outPath = parse.GetValue(output)!;
            int count = 0;
            AtomicFile.Write(outPath, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                foreach (var seq in SequencePacker.Pack(documents, tok, eos, max))
                {
                    writer.Write(JsonSerializer.Serialize(new { input_ids = seq }));
                    writer.Write('\n');
                    if (++count == cap) break;
                }
            });
            if (count == 0)
                console.Error.WriteLine($"warning: no sequences: the source has fewer than {max} tokens per map batch of {SequencePacker.ReferenceMapBatchSize} documents");
            console.Out.WriteLine($"wrote {outPath}: {count} sequences of {max} tokens");
            return 0;
        }));
        return command;
    }
}

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
        var data = new DataOptions();
        data.Data.Required = true;
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json, a folder holding it, or a hub id", Required = true };
        var revision = CommonOptions.Revision();
        var limit = new Option<int?>("--limit") { Description = "Stop after this many sequences" };
        var output = new Option<string>("--out") { Description = "Output JSONL", Required = true };
        var command = new Command("data", "Pack text documents into the reference's fixed-length training sequences")
        {
            tokenizer, revision, limit, output,
        };
        data.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            int max = data.ParseMaxLength(parse);
            int? cap = parse.GetValue(limit);
            if (cap is <= 0) throw new MlsaeException($"--limit must be positive, got {cap}");
            var Hub = CliHub.Lazy(console);
            var source = data.Source(parse, () => Tokenizer.Load(ModelResolver.ResolveTokenizer(parse.GetValue(tokenizer)!, parse.GetValue(revision)!, Hub)), Hub);
            var report = source.Report;
            var sequences = source.Sequences().Select(s => s.Ids);
            var outPath = parse.GetValue(output)!;
            int count = 0;
            AtomicFile.Write(outPath, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                foreach (var seq in sequences)
                {
                    writer.Write(JsonSerializer.Serialize(new { input_ids = seq }));
                    writer.Write('\n');
                    if (++count == cap) break;
                }
            });
            if (report.Documents == 0)
                console.Error.WriteLine("warning: no sequences: the source holds no documents");
            else if (count == 0)
                console.Error.WriteLine($"warning: no sequences: the source has fewer than {max} tokens per map batch of {SequencePacker.ReferenceMapBatchSize} documents");
            console.Out.WriteLine($"wrote {outPath}: {count} sequences of {max} tokens ({report.Summary()})");
            return 0;
        }));
        return command;
    }
}

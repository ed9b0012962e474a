using System.CommandLine;
using System.Text;
using System.Text.Json;
using Mlsae.Embedded;
using Mlsae.IO;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae generate-corpus</c>: write documents of the synthetic corpus as <c>{"text": ..}</c> lines.</summary>
public static class GenerateCorpusCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var split = new Option<string>("--split") { Description = "train or heldout", DefaultValueFactory = _ => "train" };
        var documents = new Option<int>("--documents") { Description = "Documents to write", DefaultValueFactory = _ => 1000 };
        var seed = new Option<long>("--seed") { Description = "Corpus seed (the embedded model uses 0)", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Output JSONL", Required = true };
        var command = new Command("generate-corpus", "Write documents of the project's synthetic corpus (deterministic) as JSONL") { split, documents, seed, output };
        command.SetAction(parse => console.Guard(() =>
        {
            var which = parse.GetValue(split) switch
            {
                "train" => SyntheticCorpus.Split.Train,
                "heldout" => SyntheticCorpus.Split.HeldOut,
                var other => throw new MlsaeException($"--split: expected train or heldout, got '{other}'"),
            };
            int count = parse.GetValue(documents);
            if (count <= 0) throw new MlsaeException($"--documents must be positive, got {count}");
            var text = new StringBuilder();
            foreach (var doc in new SyntheticCorpus(parse.GetValue(seed)).Documents(which).Take(count))
                text.Append(JsonSerializer.Serialize(new { text = doc })).Append('\n');
            AtomicFile.WriteText(parse.GetValue(output)!, text.ToString());
            console.Out.WriteLine($"wrote {parse.GetValue(output)}: {count} {parse.GetValue(split)} documents");
            return 0;
        }));
        return command;
    }
}

using System.CommandLine;
using System.Text.Json.Nodes;
using Mlsae.Data;
using Mlsae.Embedded;
using Mlsae.IO;
using Mlsae.Tokenization;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae corpus-stats</c>: unigram and bigram entropy of a tokenized corpus (the baselines in MODEL_CARD.md).</summary>
public static class CorpusStatsCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "Tokenizer folder or tokenizer.json", Required = true };
        var data = new Option<string>("--data") { Description = "Text source", DefaultValueFactory = _ => DataSource.Embedded };
        var maxLength = new Option<int>("--max-length") { Description = "Tokens per sequence", DefaultValueFactory = _ => 256 };
        var maxTokens = new Option<long>("--max-tokens") { Description = "Tokens to count", DefaultValueFactory = _ => 5_000_000 };
        var output = new Option<string?>("--out") { Description = "Output JSON" };
        var command = new Command("corpus-stats", "Unigram and bigram (conditional) entropy of a corpus in nats per token") { tokenizer, data, maxLength, maxTokens, output };
        command.SetAction(parse => console.Guard(() =>
        {
            var tok = Tokenizer.Load(parse.GetValue(tokenizer)!);
            int eos = tok.TokenToId("<|endoftext|>") ?? throw new MlsaeException("--tokenizer: no <|endoftext|> token");
            var entropy = new CorpusEntropy(tok.Count + 1);
            long limit = parse.GetValue(maxTokens);
            var documents = new DataSource(parse.GetValue(data)!).Documents(CliHub.Lazy(console));
            foreach (var sequence in SequencePacker.Pack(documents, tok, eos, parse.GetValue(maxLength)))
            {
                entropy.Add(sequence);
                if (entropy.Tokens >= limit) break;
            }
            var result = new JsonObject { ["data"] = parse.GetValue(data), ["tokens"] = entropy.Tokens, ["unigram_entropy"] = entropy.Unigram, ["bigram_entropy"] = entropy.Bigram };
            if (parse.GetValue(output) is string path) AtomicFile.WriteText(path, result.ToJsonString() + "\n");
            console.Out.WriteLine($"{entropy.Tokens:N0} tokens: unigram entropy {entropy.Unigram:F4} nats/token, bigram entropy {entropy.Bigram:F4} nats/token");
            return 0;
        }));
        return command;
    }
}

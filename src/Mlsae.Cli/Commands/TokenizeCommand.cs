using System.CommandLine;
using System.Text;
using System.Text.Json;
using Mlsae.Hub;
using Mlsae.IO;
using Mlsae.Tokenization;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae tokenize</c>: encode <c>{"text": ..}</c> lines to <c>{"input_ids": [..], "tokens": [..]}</c>,
/// or with <c>--decode</c> decode <c>{"input_ids": [..]}</c> lines to <c>{"text": ..}</c>; one output line per input line.</summary>
public static class TokenizeCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var tokenizer = new Option<string>("--tokenizer") { Description = "tokenizer.json, a folder holding it, or a hub id", Required = true };
        var revision = CommonOptions.Revision();
        var input = new Option<string>("--input") { Description = "Input JSONL", Required = true };
        var output = new Option<string>("--out") { Description = "Output JSONL", Required = true };
        var decode = new Option<bool>("--decode") { Description = "Decode input_ids to text instead of encoding" };
        var skipSpecial = new Option<bool>("--skip-special-tokens") { Description = "When decoding, leave out special tokens" };
        var cleanUp = new Option<bool>("--clean-up-tokenization-spaces") { Description = "When decoding, apply transformers' clean-up of spaces before punctuation" };
        var command = new Command("tokenize", "Encode text or decode token ids with an HF tokenizer.json (GPT-NeoX byte-level BPE)")
        {
            tokenizer, revision, input, output, decode, skipSpecial, cleanUp,
        };
        command.SetAction(parse => console.Guard(() =>
        {
            var inPath = parse.GetValue(input)!;
            if (!File.Exists(inPath)) throw new MlsaeException($"{inPath}: file not found");
            var tok = Tokenizer.Load(ModelResolver.ResolveTokenizer(parse.GetValue(tokenizer)!, parse.GetValue(revision)!,
                CliHub.Lazy(console)()));
            bool decoding = parse.GetValue(decode);
            var lines = new List<string>();
            int lineNumber = 0;
            foreach (var line in File.ReadLines(inPath))
            {
                lineNumber++;
                string where = $"{inPath}:{lineNumber}";
                JsonElement root;
                try { root = JsonDocument.Parse(line).RootElement; }
                catch (JsonException e) { throw MlsaeException.From($"{where}: malformed JSON", e); }
                if (decoding)
                {
                    if (!root.TryGetProperty("input_ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
                        throw new MlsaeException($"{where}: expected an object with an \"input_ids\" array");
                    var text = tok.Decode(ids.EnumerateArray().Select(v => v.TryGetInt32(out int id) ? id
                        : throw new MlsaeException($"{where}: input_ids holds a non-integer")), parse.GetValue(skipSpecial), parse.GetValue(cleanUp));
                    lines.Add(JsonSerializer.Serialize(new { text }));
                }
                else
                {
                    if (!root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                        throw new MlsaeException($"{where}: expected an object with a \"text\" string");
                    var (ids, tokens) = tok.EncodeWithTokens(text.GetString()!);
                    lines.Add(JsonSerializer.Serialize(new { input_ids = ids, tokens }));
                }
            }
            var outPath = parse.GetValue(output)!;
            AtomicFile.WriteText(outPath, lines.Count == 0 ? "" : string.Join('\n', lines) + "\n");
            console.Out.WriteLine($"wrote {outPath}: {lines.Count} lines {(decoding ? "decoded" : "encoded")}");
            return 0;
        }));
        return command;
    }
}

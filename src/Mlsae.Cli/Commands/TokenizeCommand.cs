using System.CommandLine;
using System.Text;
using System.Text.Json;
using Mlsae.Data;
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
        // The data commands' rule for invalid UTF-8; a malformed line stays an error, since the output has one line per input line.
        var skipBadLines = new Option<bool>("--skip-bad-lines")
        {
            Description = "Replace invalid UTF-8 in a line (as Python's errors='replace'), counting such lines, instead of failing",
        };
        var command = new Command("tokenize", "Encode text or decode token ids with an HF tokenizer.json (GPT-NeoX byte-level BPE)")
        {
            tokenizer, revision, input, output, decode, skipSpecial, cleanUp, skipBadLines,
        };
        command.SetAction(parse => console.Guard(() =>
        {
            var inPath = parse.GetValue(input)!;
            if (!File.Exists(inPath)) throw new MlsaeException($"{inPath}: file not found");
            var tok = Tokenizer.Load(ModelResolver.ResolveTokenizer(parse.GetValue(tokenizer)!, parse.GetValue(revision)!, CliHub.Lazy(console)));
            bool decoding = parse.GetValue(decode);
            var lines = new List<string>();
            var report = new DataReport();
            foreach (var (lineNumber, line) in TextLines.Read(inPath, new DocumentOptions(SkipBadLines: parse.GetValue(skipBadLines)), report))
            {
                string where = $"{inPath}:{lineNumber}";
                JsonDocument doc;
                try { doc = JsonDocument.Parse(line); }
                catch (JsonException e) { throw MlsaeException.From($"{where}: malformed JSON", e); }
                using var _ = doc;
                var root = doc.RootElement;
                if (decoding)
                {
                    if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("input_ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
                        throw new MlsaeException($"{where}: expected an object with an \"input_ids\" array");
                    var text = tok.Decode(ids.EnumerateArray().Select(v => v.TryGetInt32(out int id) ? id
                        : throw new MlsaeException($"{where}: input_ids holds a non-integer")), parse.GetValue(skipSpecial), parse.GetValue(cleanUp));
                    lines.Add(JsonSerializer.Serialize(new { text }));
                }
                else
                {
                    if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                        throw new MlsaeException($"{where}: expected an object with a \"text\" string");
                    string value;
                    try { value = text.GetString()!; }
                    catch (InvalidOperationException) { throw new MlsaeException($"{where}: \"text\" is not valid Unicode (a lone surrogate escape?)"); }
                    var (ids, tokens) = tok.EncodeWithTokens(value);
                    lines.Add(JsonSerializer.Serialize(new { input_ids = ids, tokens }));
                }
            }
            var outPath = parse.GetValue(output)!;
            AtomicFile.WriteText(outPath, lines.Count == 0 ? "" : string.Join('\n', lines) + "\n");
            console.Out.WriteLine($"wrote {outPath}: {lines.Count} lines {(decoding ? "decoded" : "encoded")}"
                + (report.ReplacedLines > 0 ? $", {report.ReplacedLines} with invalid UTF-8 replaced" : ""));
            return 0;
        }));
        return command;
    }
}

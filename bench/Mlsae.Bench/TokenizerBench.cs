using System.Diagnostics;
using System.Text;
using Mlsae.Tokenization;

namespace Mlsae.Bench;

/// <summary>
/// Encode throughput of <see cref="Tokenizer"/> (one thread) on deterministic mixed-script documents
/// of about 4,000 characters each (the size of a typical corpus document),
/// against HF's Rust tokenizers core run on the same text and tokenizer.json through its npm
/// package (installed into a temporary folder by this bench, never by the build), also one thread.
/// </summary>
public static class TokenizerBench
{
    public sealed record Result(string Tokenizer, int Characters, int Tokens, double MlsaeMBPerSecond, double? HfMBPerSecond,
        double? Ratio, bool? SameIds, string? HfNote);

    public static string Text(int approxChars)
    {
        string[] words = ["the", "model", "residual", "stream", "layer", "don't", "it's", "42", "3.14159", "café", "naïve", "日本語",
            "данные", "λόγος", "😀", "    indented", "\tcode();", "x = y + 1", "<|endoftext|>", "\n\n", "  ", "Hello,", "world!"];
        var rng = new Random(1234);
        var sb = new StringBuilder();
        while (sb.Length < approxChars) sb.Append(words[rng.Next(words.Length)]).Append(rng.Next(4) == 0 ? "" : " ");
        return sb.ToString();
    }

    public static Result Run(string tokenizerPath, int chars, int repeats)
    {
        var tok = Tokenizer.Load(tokenizerPath);
        var text = Text(chars);
        double bytes = Encoding.UTF8.GetByteCount(text);
        // Split by code points (4,000 per document), exactly as the node side does with Array.from.
        var docs = text.EnumerateRunes().Chunk(4000).Select(c => string.Concat(c.Select(r => r.ToString()))).ToArray();
        List<int> Encode() => docs.SelectMany(tok.Encode).ToList();
        var ids = Encode();   // warm-up fills the BPE cache, as a long-running encode would
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var sw = Stopwatch.StartNew();
            ids = Encode();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        double ours = bytes / best / 1e6;
        var (hf, hfIds, note) = RunHf(tokenizerPath, text, repeats);
        return new Result(tokenizerPath, text.Length, ids.Count, Math.Round(ours, 2), hf is null ? null : Math.Round(hf.Value, 2),
            hf is null ? null : Math.Round(ours / hf.Value, 3), hfIds is null ? null : hfIds.SequenceEqual(ids), note);
    }

    static (double? MBPerSecond, List<int>? Ids, string? Note) RunHf(string tokenizerPath, string text, int repeats)
    {
        var dir = Path.Combine(Path.GetTempPath(), "mlsae-bench-hf-tokenizers");
        Directory.CreateDirectory(dir);
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "tokenizers")))
        {
            var install = Process.Start(new ProcessStartInfo("npm", "install --no-audit --no-fund tokenizers@0.23.2")
                { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true });
            if (install is null || !install.WaitForExit(300_000) || install.ExitCode != 0)
                return (null, null, "npm install tokenizers failed; HF baseline not measured");
        }
        var file = Directory.Exists(tokenizerPath) ? Path.Combine(tokenizerPath, "tokenizer.json") : tokenizerPath;
        File.WriteAllText(Path.Combine(dir, "text.txt"), text);
        File.WriteAllText(Path.Combine(dir, "bench.js"), $$"""
            const { Tokenizer } = require('tokenizers');
            const fs = require('fs');
            (async () => {
              const tok = Tokenizer.fromFile({{System.Text.Json.JsonSerializer.Serialize(Path.GetFullPath(file))}});
              const text = fs.readFileSync('text.txt', 'utf8');
              const docs = [];
              for (const cs = Array.from(text), n = cs.length, i = { v: 0 }; i.v < n; i.v += 4000) docs.push(cs.slice(i.v, i.v + 4000).join(''));
              let enc = await tok.encodeBatch(docs);
              let best = Infinity;
              for (let i = 0; i < {{repeats}}; i++) {
                const t0 = process.hrtime.bigint();
                enc = await tok.encodeBatch(docs);
                best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
              }
              console.log(JSON.stringify({ seconds: best, ids: enc.flatMap(e => e.getIds()) }));
            })();
            """);
        var psi = new ProcessStartInfo("node", "bench.js") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["RAYON_NUM_THREADS"] = "1";
        psi.Environment["TOKENIZERS_PARALLELISM"] = "false";
        using var node = Process.Start(psi)!;
        var stdout = node.StandardOutput.ReadToEnd();
        node.WaitForExit();
        if (node.ExitCode != 0) return (null, null, "node bench failed: " + node.StandardError.ReadToEnd().Split('\n')[0]);
        using var doc = System.Text.Json.JsonDocument.Parse(stdout);
        double seconds = doc.RootElement.GetProperty("seconds").GetDouble();
        var ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToList();
        return (Encoding.UTF8.GetByteCount(text) / seconds / 1e6, ids, null);
    }
}

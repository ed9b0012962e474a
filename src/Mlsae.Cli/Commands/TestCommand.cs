using System.CommandLine;
using Mlsae.Training;
using Mlsae.Evaluation;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae test</c>: the reference's <c>test.py</c> table, one row per SAE, appended to a CSV.</summary>
public static class TestCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var analysis = new AnalysisOptions(severalSaes: true);
        var deadTokens = new Option<long?>("--dead-tokens-threshold") { Description = "train/dead/rel: dead if selected fewer than batch tokens / this times (default: the run's, else 10M)" };
        var output = new Option<string>("--out") { Description = "CSV table to create or append to (one row per SAE)", Required = true };
        var command = new Command("test", "The reference's test table: evaluate each --sae (FVU, MSE, L1, ΔCE loss, KL, logit MSE per layer, loss terms, dead fraction) and append one CSV row per SAE")
        {
            deadTokens, output,
        };
        analysis.AddTo(command);
        var distributed = new DistributedOptions();
        distributed.AddTo(command);
        command.SetAction(parse => console.Guard(() => distributed.Run(parse, console, world =>
        {
            var (ranks, log) = distributed.Start(parse, console, world);
            var path = parse.GetValue(output)!;
            // Every SAE is evaluated before the file is touched: an error in any leaves it as it was.
            string[]? header = null;
            var rows = new List<string[]>();
            foreach (var name in analysis.Sae.Names(parse))
            {
                using var session = analysis.OpenAgreed(parse, log, ranks, name, $"dead={parse.GetValue(deadTokens)}");
                var own = TestTable.Header(session.Model.Layers);
                if (header is not null && !own.SequenceEqual(header))
                    throw new MlsaeException($"--sae {name}: reads layers [{string.Join(", ", session.Model.Layers)}], unlike the SAEs before it; one table needs the same layers (--layers)");
                header ??= own;
                TestTable.CheckHeader(path, header);     // before the evaluation: a mismatched file fails at once
                var result = log.Progress($"test {name}", session.MaxBatches * session.Data.BatchSize * session.Data.MaxLength, "tokens", done =>
                    MlsaeEvaluator.Run(session.Stream, session.Sae, session.Batches().Select(b => b.Sequences), downstream: true,
                        parse.GetValue(deadTokens) ?? session.Run?.Autoencoder.DeadTokensThreshold ?? 10_000_000, (int)Math.Min(int.MaxValue, session.MaxBatches), done,
                        parallel: ranks));
                // A per-layer family's shape is that of each of its SAEs (its expansion factor, its F).
                int latents = session.Sae is Coders.PerLayer.PerLayerFamily family ? family.LatentsPerSae : session.Sae.NLatents;
                rows.Add(TestTable.Values(new TestTableRow(name, session.Model.Name, session.Sae.NInputs, latents, session.Sae.K, result)));
                log.Out.WriteLine($"{name}: FVU {EvalSummary.Format(result.Mean("fvu"))}, ΔCE loss {EvalSummary.Format(result.Mean("delta_ce_loss"))}, "
                    + $"KL {EvalSummary.Format(result.Mean("kl_div"))}, {EvalSummary.DeadFractions(result)} ({result.Tokens:N0} tokens)");
            }
            if (!ranks.Writes()) return 0;   // rank 0 appends the rows
            TestTable.Append(path, header!, rows);
            log.Out.WriteLine($"{rows.Count} row{(rows.Count == 1 ? "" : "s")} appended to {path}");
            return 0;
        })));
        return command;
    }
}

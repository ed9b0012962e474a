using System.Diagnostics;
using Mlsae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Mlsae.Bench;

/// <summary>
/// GPT-NeoX forward throughput on a Pythia-70m-shaped model with random weights (d=512, 6 layers,
/// 8 heads, vocab 50304). Measures the residual-stream path (all layers, no logits), the full
/// forward with logits, and as the baseline the same model run by a straightforward eager
/// implementation (explicit q·kᵀ, mask, softmax, as transformers' eager attention) in this process.
/// </summary>
public static class ForwardBench
{
    public sealed record Result(string Model, int Seq, int Batch, int Threads, double ResidualTokensPerSecond,
        double LogitsTokensPerSecond, double BaselineLogitsTokensPerSecond, double SpeedupOverBaseline, double MaxAbsDiffVsBaseline);

    public static Result Run(int seq, int batch, int repeats)
    {
        var config = new GptNeoXConfig
        {
            HiddenSize = 512, NumAttentionHeads = 8, NumHiddenLayers = 6, IntermediateSize = 2048, VocabSize = 50304,
            MaxPositionEmbeddings = 2048, RotaryPct = 0.25, UseParallelResidual = true,
        };
        using var model = GptNeoXInit.Create(config, seed: 0);
        using var tokens = randint(0, 50277, [batch, seq], generator: new Generator(1));
        using var _ = inference_mode();
        double Time(Func<Tensor> f)
        {
            using (NewDisposeScope()) f();   // warm-up
            var best = double.MaxValue;
            for (int i = 0; i < repeats; i++)
            {
                using var scope = NewDisposeScope();
                var sw = Stopwatch.StartNew();
                f();
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            return (double)batch * seq / best;
        }
        double residual = Time(() => model.Forward(tokens).HiddenStates);
        double logits = Time(() => model.Forward(tokens, logits: true).Logits!);
        double baseline = Time(() => EagerReference.Logits(model, tokens));
        double diff;
        using (NewDisposeScope())
            diff = (model.Forward(tokens, logits: true).Logits! - EagerReference.Logits(model, tokens)).abs().max().item<float>();
        return new Result("pythia-70m-shaped (random weights)", seq, batch, get_num_threads(), Math.Round(residual), Math.Round(logits),
            Math.Round(baseline), Math.Round(logits / baseline, 3), diff);
    }
}

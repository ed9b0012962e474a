using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlsae.Data;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Runs;
using static TorchSharp.torch;

namespace Mlsae.Lens.Training;

/// <summary>
/// Trains a tuned lens (Belrose et al. 2023) with the tuned-lens package's recipe
/// (<see cref="LensTrainOptions"/>): per batch, the model's hidden states and final distribution
/// once without gradients, then per translator the KL loss through the model's final norm and
/// unembedding, backward (scaled by 1/accumulation); per step clipping, SGD, schedule. Writes the
/// lens folder (<see cref="TunedLensFiles"/>), <c>train_lens_log.jsonl</c>, <c>train_lens.json</c>
/// and a resumable state every few steps.
/// </summary>
public sealed class LensTrainer(LensTrainOptions options, ILanguageModel model, string outDir, IRunObserver observer)
{
    /// <summary>The arguments file (written by the caller before training).</summary>
    public const string ArgsFile = "train_lens_args.json";
    /// <summary>The per-step log.</summary>
    public const string LogFile = "train_lens_log.jsonl";
    /// <summary>The result summary.</summary>
    public const string ResultFile = "train_lens.json";

    /// <summary>The state file.</summary>
    public string StatePath => Path.Combine(outDir, "state", "train_lens_state.safetensors");
    string LogPath => Path.Combine(outDir, LogFile);
    int Layers => model.Config.NumHiddenLayers;

    /// <summary>Trains <see cref="LensTrainOptions.NumSteps"/> steps on the batches <paramref name="training"/>
    /// opens (from <paramref name="start"/>, or the saved state's position when <paramref name="resume"/>),
    /// then measures <paramref name="heldOut"/> and writes the lens; <paramref name="revision"/> goes into its config.</summary>
    public LensTrainResult Fit(Func<DataPosition?, IEnumerable<TokenBatch>> training, DataPosition? start, IReadOnlyList<TokenBatch> heldOut, bool resume, string? revision)
    {
        if (heldOut.Count == 0) throw new MlsaeException("train-lens: the held-out data holds no full batch");
        FreezeModel();
        using var translators = new LensTranslators(Layers, model.Config.HiddenSize, model.Device);
        using var sgd = new NesterovSgd(translators.Parameters, options.Momentum, options.WeightDecay);
        double[] identity;
        using (var zero = new LensTranslators(Layers, model.Config.HiddenSize, model.Device)) identity = Evaluate(zero, heldOut);
        long step = 0, tokens = 0;
        var cursor = new WindowCursor(start, 0, 0);
        if (resume) (step, tokens, cursor) = LensTrainingState.Load(StatePath, translators, sgd);
        if (resume) TruncateLog(step); else File.Delete(LogPath);
        long total = (long)options.NumSteps * options.TokensPerStep;
        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN;
        observer.Progress("train-lens", total, "tokens", done =>
        {
            done(tokens);
            var losses = new double[Layers];
            int inStep = 0;
            foreach (var (batch, next) in ShuffledBatches.Read(training, cursor, options.ShuffleBatches, options.BatchSize, options.Seed))
            {
                if (step >= options.NumSteps) break;
                var kl = Backward(translators, batch);
                for (int i = 0; i < Layers; i++) losses[i] += kl[i] / options.AccumulateGradBatches;
                tokens += batch.Tokens;
                if (++inStep < options.AccumulateGradBatches) continue;
                double lr = options.Lr * options.Schedule(step);
                Update(translators, sgd, lr);
                step++;
                cursor = next;
                lastLoss = losses.Average();
                Log(step, tokens, losses, lr, clock.Elapsed.TotalSeconds);
                if (step % options.CheckpointEvery == 0 || step == options.NumSteps) Checkpoint(translators, sgd, step, tokens, cursor);
                Array.Clear(losses);
                inStep = 0;
                done(tokens);
            }
            return 0;
        }, () => $"step {step}/{options.NumSteps} kl {lastLoss:F4}");
        if (step < options.NumSteps)
        {
            if (step == 0) throw new MlsaeException($"train-lens: the training data ran out before the first step ({options.TokensPerStep:N0} tokens per step)");
            observer.Notice($"train-lens: the training data ran out after {step} of {options.NumSteps} steps; the lens is what those steps trained");
            Checkpoint(translators, sgd, step, tokens, cursor);
        }
        var result = new LensTrainResult
        {
            Model = options.Model, Steps = step, Tokens = tokens, HeldOutTokens = heldOut.Sum(b => b.Tokens),
            KlIdentity = identity, KlLens = Evaluate(translators, heldOut),
        };
        TunedLensFiles.Write(outDir, translators, options.Model, revision);
        AtomicFile.WriteText(Path.Combine(outDir, ResultFile), JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        return result;
    }

    // The lens never trains the model: no gradient should reach (or be computed for) its weights.
    void FreezeModel()
    {
        if (model is TorchSharp.torch.nn.Module m)
            foreach (var p in m.parameters()) p.requires_grad = false;
    }

    // One batch: the model once, then each translator's KL backward on its own (the package's
    // order; it keeps one [B, T, V] logits tensor alive at a time). Returns the per-layer KL.
    double[] Backward(LensTranslators translators, TokenBatch batch)
    {
        using var scope = NewDisposeScope();
        using var lens = LensBatch.Of(model, batch.ToTensor(model.Config.VocabSize, model.Device));
        var kl = new double[Layers];
        for (int i = 0; i < Layers; i++)
        {
            using var layerScope = NewDisposeScope();
            var loss = LensBatch.KlDivergence(lens.FinalLogProbs, LensBatch.Unembed(model, translators.Translate(lens.Hidden[i], i)));
            kl[i] = loss.item<float>();
            if (!double.IsFinite(kl[i]))
                throw new MlsaeException($"train-lens: the KL of translator {i} became {kl[i]}; {outDir} keeps the last checkpoint (lower --lr-scale?)");
            (loss / options.AccumulateGradBatches).backward();
        }
        return kl;
    }

    void Update(LensTranslators translators, NesterovSgd sgd, double lr)
    {
        using var scope = NewDisposeScope();
        nn.utils.clip_grad_norm_(translators.Parameters, options.GradClip);
        sgd.Step(lr);
        sgd.ZeroGrad();
    }

    /// <summary>Mean KL per translator over <paramref name="batches"/>, without gradients.</summary>
    public double[] Evaluate(LensTranslators translators, IReadOnlyList<TokenBatch> batches)
    {
        using var _ = no_grad();
        var sums = new double[Layers];
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            using var lens = LensBatch.Of(model, batch.ToTensor(model.Config.VocabSize, model.Device));
            for (int i = 0; i < Layers; i++)
                sums[i] += LensBatch.KlDivergence(lens.FinalLogProbs, LensBatch.Unembed(model, translators.Translate(lens.Hidden[i], i))).item<float>();
        }
        return sums.Select(s => s / batches.Count).ToArray();
    }

    void Log(long step, long tokens, double[] kl, double lr, double seconds)
    {
        var line = new JsonObject
        {
            ["step"] = step, ["tokens"] = tokens, ["loss"] = kl.Average(), ["kl"] = new JsonArray(kl.Select(k => (JsonNode)k).ToArray()),
            ["lr"] = lr, ["seconds"] = Math.Round(seconds, 2),
        };
        File.AppendAllText(LogPath, line.ToJsonString() + "\n", new UTF8Encoding(false));
    }

    void Checkpoint(LensTranslators translators, NesterovSgd sgd, long step, long tokens, WindowCursor cursor)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(StatePath)!);
        LensTrainingState.Save(StatePath, translators, sgd, step, tokens, cursor);
    }

    // A resumed run continues from the state's step: log lines written after it are dropped.
    void TruncateLog(long step)
    {
        if (!File.Exists(LogPath)) return;
        AtomicFile.WriteText(LogPath, string.Concat(File.ReadLines(LogPath)
            .Where(l => { try { return JsonNode.Parse(l)?["step"]?.GetValue<long>() <= step; } catch (JsonException) { return false; } })
            .Select(l => l + "\n")));
    }
}

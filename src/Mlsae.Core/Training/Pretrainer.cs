using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Mlsae.Data;
using Mlsae.IO;
using Mlsae.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Training;

/// <summary>
/// Trains a GPT-NeoX language model from scratch on packed sequences: next-token cross-entropy,
/// AdamW (decay on matrices only), linear warm-up then cosine decay, gradient clipping by global
/// norm. Held-out loss every few steps; resumable checkpoints (parameters, moments, step, data
/// position) in one atomic file; the model is exported in HF format at the end.
/// </summary>
public sealed class Pretrainer(PretrainOptions options, GptNeoX model, string outDir)
{
    /// <summary>Where a run stands.</summary>
    public sealed record Progress(long Step, long TotalSteps, long Tokens, double Loss, double? HeldOutLoss, double LearningRate);

    /// <summary>The state file.</summary>
    public string StatePath => Path.Combine(outDir, "state", "pretrain_state.safetensors");
    /// <summary>The training log.</summary>
    public string LogPath => Path.Combine(outDir, "pretrain_log.jsonl");

    /// <summary>Trains to <see cref="PretrainOptions.TotalSteps"/>; returns the last held-out loss.</summary>
    /// <remarks><paramref name="training"/> opens the training stream at a position; a resume reopens
    /// it where the saved state stands (a state from before positions were saved skips the consumed batches).</remarks>
    public double Fit(Func<DataPosition?, IEnumerable<TokenBatch>> training, IReadOnlyList<TokenBatch> heldOut, bool resume, Action<Progress>? progress = null)
    {
        var parameters = model.parameters().ToList();
        var decayed = parameters.Select((p, i) => (p, i)).Where(x => x.p.dim() >= 2).Select(x => x.i).ToHashSet();
        using var adam = new AdamOptimizer(parameters, options.Lr, eps: 1e-8, weightDecay: options.WeightDecay, decayed: decayed);
        long step = 0, sequences = 0;
        DataPosition? position = null;
        if (resume) (step, sequences, position) = LoadState(parameters, adam);
        var stream = resume && position is null ? training(null).Skip(checked((int)(sequences / options.BatchSize))) : training(position);
        var clock = Stopwatch.StartNew();
        double heldOutLoss = double.NaN;
        model.train();
        foreach (var batch in stream)
        {
            if (step >= options.TotalSteps) break;
            if (batch.Size < options.BatchSize) break;
            double loss = TrainStep(batch, adam, step + 1);
            step++;
            sequences += batch.Size;
            position = batch.Next;
            double? evaluated = null;
            if (step % options.EvalEvery == 0 || step == options.TotalSteps) evaluated = heldOutLoss = Evaluate(heldOut);
            var line = new JsonObject
            {
                ["step"] = step, ["tokens"] = sequences * options.MaxLength, ["loss"] = loss, ["lr"] = adam.LearningRate,
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2),
            };
            if (evaluated is double e) line["heldout_loss"] = e;
            File.AppendAllText(LogPath, line.ToJsonString() + "\n", new UTF8Encoding(false));
            progress?.Invoke(new Progress(step, options.TotalSteps, sequences * options.MaxLength, loss, evaluated, adam.LearningRate));
            if (step % options.CheckpointEvery == 0) SaveState(parameters, adam, step, sequences, position);
        }
        if (step == 0) throw new MlsaeException("pretrain: the data holds no full batch");
        SaveState(parameters, adam, step, sequences, position);
        if (double.IsNaN(heldOutLoss)) heldOutLoss = Evaluate(heldOut);
        model.eval();
        return heldOutLoss;
    }

    double TrainStep(TokenBatch batch, AdamOptimizer adam, long step)
    {
        using var scope = NewDisposeScope();
        var tokens = batch.ToTensor(model.Config.VocabSize, model.Device);                              // [B, T]
        var logits = model.Forward(tokens, layers: [], logits: true).Logits!;
        var loss = GptNeoX.NextTokenLoss(logits, tokens);
        double value = loss.item<float>();
        if (!double.IsFinite(value))
            throw new TrainingDivergedException($"pretrain: the loss became {value} at step {step}; {outDir} keeps the last good checkpoint (lower --lr?)");
        loss.backward();
        nn.utils.clip_grad_norm_(model.parameters(), options.GradClip);
        adam.LearningRate = options.LearningRate(step);
        adam.StepOnce();
        adam.ZeroGrad();
        return value;
    }

    /// <summary>Mean next-token loss over the held-out batches.</summary>
    public double Evaluate(IReadOnlyList<TokenBatch> heldOut)
    {
        if (heldOut.Count == 0) return double.NaN;
        using var _ = no_grad();
        double total = 0;
        foreach (var batch in heldOut)
        {
            using var scope = NewDisposeScope();
            var tokens = batch.ToTensor(model.Config.VocabSize, model.Device);                          // [B, T]
            total += GptNeoX.NextTokenLoss(model.Forward(tokens, layers: [], logits: true).Logits!, tokens).item<float>();
        }
        return total / heldOut.Count;
    }

    void SaveState(List<Parameter> parameters, AdamOptimizer adam, long step, long sequences, DataPosition? position)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        for (int i = 0; i < parameters.Count; i++)
        {
            tensors[$"param.{i}"] = parameters[i].detach().cpu();
            tensors[$"exp_avg.{i}"] = adam.ExpAvg[i].cpu();
            tensors[$"exp_avg_sq.{i}"] = adam.ExpAvgSq[i].cpu();
        }
        Directory.CreateDirectory(Path.GetDirectoryName(StatePath)!);
        var metadata = new Dictionary<string, string>
        {
            ["step"] = step.ToString(), ["sequences"] = sequences.ToString(), ["adam_step"] = adam.Step.ToString(),
        };
        if (position is not null) metadata["position"] = position.ToJson();
        SafeTensorsWriter.Write(StatePath, tensors, metadata);
    }

    (long Step, long Sequences, DataPosition? Position) LoadState(List<Parameter> parameters, AdamOptimizer adam)
    {
        if (!File.Exists(StatePath)) throw new MlsaeException($"--resume: {StatePath} not found");
        using var file = SafeTensorsFile.Open(StatePath);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < parameters.Count; i++)
        {
            parameters[i].copy_(file.Read($"param.{i}"));
            adam.ExpAvg[i].copy_(file.Read($"exp_avg.{i}"));
            adam.ExpAvgSq[i].copy_(file.Read($"exp_avg_sq.{i}"));
        }
        adam.Step = long.Parse(file.Metadata["adam_step"]);
        long step = long.Parse(file.Metadata["step"]);
        if (File.Exists(LogPath))
            AtomicFile.WriteText(LogPath, string.Concat(File.ReadLines(LogPath)
                .Where(l => { try { return JsonNode.Parse(l)?["step"]?.GetValue<long>() <= step; } catch (System.Text.Json.JsonException) { return false; } })
                .Select(l => l + "\n")));
        var position = file.Metadata.TryGetValue("position", out var p) ? DataPosition.FromJson(p, StatePath) : null;
        return (step, long.Parse(file.Metadata["sequences"]), position);
    }
}

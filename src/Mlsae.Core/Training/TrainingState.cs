using System.Text.Json;
using Mlsae.Coders;
using Mlsae.Data;
using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Training;

/// <summary>
/// Everything needed to continue a run exactly, in one atomically written file
/// (<c>state/training_state.safetensors</c>): the coder's named parameters and buffers (the
/// MLSAE's <c>encoder</c>, <c>decoder</c>, <c>pre_encoder_bias</c>, and its dead-latent counters
/// <c>last_nonzero</c>, <c>tokens_since_fired</c>), Adam's moments (<c>adam.exp_avg.{i}</c>,
/// <c>adam.exp_avg_sq.{i}</c> in parameter order), and in its metadata the progress (optimizer step, batches and sequences
/// consumed, the data position to reopen the stream at, and the metrics of the logging window in
/// progress). Nothing else in training is random, so no RNG state is needed beyond the seed.
/// </summary>
public sealed record TrainingState(long Step, long Batches, long Sequences, long Tokens)
{
    /// <summary>Where the training stream stands; null in states written before positions were saved.</summary>
    public DataPosition? Position { get; init; }

    /// <summary>The state file of a run folder.</summary>
    public static string PathIn(string runDir) => Path.Combine(runDir, "state", "training_state.safetensors");

    /// <summary>Writes the state.</summary>
    public void Save(string runDir, ISparseCoder sae, AdamOptimizer adam, StepAggregate window)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in sae.NamedParameters) tensors[name] = parameter.detach().cpu();
        foreach (var (name, buffer) in sae.NamedBuffers) tensors[name] = buffer.detach().cpu();
        for (int i = 0; i < adam.ExpAvg.Length; i++)
        {
            tensors[$"adam.exp_avg.{i}"] = adam.ExpAvg[i].cpu();
            tensors[$"adam.exp_avg_sq.{i}"] = adam.ExpAvgSq[i].cpu();
        }
        var metadata = new Dictionary<string, string>
        {
            ["step"] = Step.ToString(), ["batches"] = Batches.ToString(), ["sequences"] = Sequences.ToString(),
            ["tokens"] = Tokens.ToString(), ["adam_step"] = adam.Step.ToString(), ["log_window"] = window.Save(),
        };
        if (Position is not null) metadata["position"] = Position.ToJson();
        var path = PathIn(runDir);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SafeTensorsWriter.Write(path, tensors, metadata);
    }

    /// <summary>Reads the state into <paramref name="sae"/>, <paramref name="adam"/> and the logging <paramref name="window"/>.</summary>
    public static TrainingState Load(string runDir, ISparseCoder sae, AdamOptimizer adam, StepAggregate window)
    {
        var path = PathIn(runDir);
        if (!File.Exists(path)) throw new MlsaeException($"--resume: {path} not found (the run has no checkpoint yet)");
        using var file = SafeTensorsFile.Open(path);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Tensor Read(string name, Tensor like)
        {
            if (!file.Names.Contains(name)) throw new MlsaeException($"{path}: missing '{name}'");
            var t = file.Read(name);
            if (!t.shape.SequenceEqual(like.shape)) throw new MlsaeException($"{path}: '{name}' has shape {Tensors.Shapes.Format(t.shape)}, the run's autoencoder {Tensors.Shapes.Format(like.shape)}");
            return t.to(like.dtype, like.device);
        }
        foreach (var (name, parameter) in sae.NamedParameters) parameter.copy_(Read(name, parameter));
        foreach (var (name, buffer) in sae.NamedBuffers) buffer.copy_(Read(name, buffer));
        for (int i = 0; i < adam.ExpAvg.Length; i++)
        {
            adam.ExpAvg[i].copy_(Read($"adam.exp_avg.{i}", adam.ExpAvg[i]));
            adam.ExpAvgSq[i].copy_(Read($"adam.exp_avg_sq.{i}", adam.ExpAvgSq[i]));
        }
        long Meta(string key) => !file.Metadata.TryGetValue(key, out var v) ? throw new MlsaeException($"{path}: missing '{key}' in its metadata")
            : long.TryParse(v, out var n) && n >= 0 && n <= int.MaxValue * 1024L ? n
            : throw new MlsaeException($"{path}: metadata '{key}' is '{v}', not a count this run can have reached");
        adam.Step = Meta("adam_step");
        if (file.Metadata.TryGetValue("log_window", out var log)) window.Load(log, path);
        var position = file.Metadata.TryGetValue("position", out var p) ? DataPosition.FromJson(p, path) : null;
        return new TrainingState(Meta("step"), Meta("batches"), Meta("sequences"), Meta("tokens")) { Position = position };
    }
}

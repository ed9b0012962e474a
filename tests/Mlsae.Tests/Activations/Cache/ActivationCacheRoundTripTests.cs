using System.Text.Json.Nodes;
using Mlsae.Activations.Cache;
using Mlsae.IO;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Training;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Activations.Cache;

/// <summary>The cache round trip through the real commands: <c>mlsae cache</c>, then <c>train</c>,
/// <c>--resume</c> and <c>eval</c> with <c>--activations</c> end exactly where the runs from the model
/// end; a cache that does not match what is asked is a one-line error naming both.</summary>
public class ActivationCacheRoundTripTests
{
    const int Steps = 6;                                   // 12 training batches of 2 × 32 tokens after 2 held out
    const long CachedTokens = (2 * Steps + 2) * 64;

    static readonly Lazy<(string Data, string Cache)> Shared = new(() =>
    {
        var data = TinyRun.Data(40);
        var cache = Path.Combine(Fixtures.TempDir(), "cache");
        var r = CliRunner.Run("cache", "--model", TinyRun.Model, "--data", data, "--max-length", "32", "--batch-size", "2",
            "--sequences-per-shard", "4", "--max-tokens", CachedTokens.ToString(), "--out", cache);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.True(r.Out.Contains("28 sequences (896 tokens)"), r.Out + r.Error);
        return (data, cache);
    });

    static void AssertSameTensors(string expected, string actual)
    {
        using var a = SafeTensorsFile.Open(expected);
        using var b = SafeTensorsFile.Open(actual);
        Assert.Equal(a.Names.Order(), b.Names.Order());
        foreach (var name in a.Names)
        {
            using var x = a.Read(name);
            using var y = b.Read(name);
            Assert.True(x.dtype == y.dtype && x.shape.SequenceEqual(y.shape) && x.eq(y).all().item<bool>(), $"{Path.GetFileName(actual)}: {name} differs");
        }
    }

    static string[] Without(string[] args, params string[] flags)
    {
        var list = args.ToList();
        foreach (var flag in flags) { int at = list.IndexOf(flag); list.RemoveRange(at, 2); }
        return list.ToArray();
    }

    [Fact]
    public void TrainingAndEvalFromTheCacheEqualTheRunsFromTheModel()
    {
        var (data, cache) = Shared.Value;
        var fromModel = Path.Combine(Fixtures.TempDir(), "model-run");
        var fromCache = Path.Combine(Fixtures.TempDir(), "cache-run");
        var m = CliRunner.Run(TinyRun.TrainArgs(data, fromModel, Steps, "--val-every", "3"));
        Assert.True(m.ExitCode == 0, m.Error);
        // The model, data and max length come from the cache.
        var c = CliRunner.Run(Without(TinyRun.TrainArgs(data, fromCache, Steps, "--val-every", "3", "--activations", cache), "--model", "--data", "--max-length"));
        Assert.True(c.ExitCode == 0, c.Error);

        AssertSameTensors(Path.Combine(fromModel, "model.safetensors"), Path.Combine(fromCache, "model.safetensors"));
        AssertSameTensors(Path.Combine(fromModel, "state", "training_state.safetensors"), Path.Combine(fromCache, "state", "training_state.safetensors"));
        Assert.Equal(File.ReadAllText(Path.Combine(fromModel, "eval.json")), File.ReadAllText(Path.Combine(fromCache, "eval.json")));
        Assert.Equal(TinyRun.LinesWithoutTime(Path.Combine(fromModel, "metrics.jsonl")), TinyRun.LinesWithoutTime(Path.Combine(fromCache, "metrics.jsonl")));
        var recorded = JsonNode.Parse(File.ReadAllText(Path.Combine(fromCache, "run.json")))!;
        Assert.Equal(Path.GetFullPath(cache), (string)recorded["activations"]!["path"]!);
        Assert.Equal(ActivationCacheIndex.Sha256Of(cache), (string)recorded["activations"]!["sha256"]!);
        Assert.Equal(Path.GetFullPath(data), (string)recorded["data"]!);
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(fromModel, "run.json")))!["activations"]);

        // eval reads the cache's sequences and vectors, and the model for the downstream metrics.
        var fromData = Path.Combine(Fixtures.TempDir(), "data.json");
        var fromCached = Path.Combine(Fixtures.TempDir(), "cached.json");
        var e1 = CliRunner.Run("eval", "--sae", fromCache, "--data", data, "--batch-size", "2", "--max-tokens", CachedTokens.ToString(), "--out", fromData);
        Assert.True(e1.ExitCode == 0, e1.Error);
        var e2 = CliRunner.Run("eval", "--sae", fromCache, "--activations", cache, "--batch-size", "2", "--out", fromCached);
        Assert.True(e2.ExitCode == 0, e2.Error);
        Assert.Equal(File.ReadAllText(fromData), File.ReadAllText(fromCached));
    }

    [Fact]
    public void ALibraryRunFromTheCacheReadsEveryBatchFromItAndNeverRunsTheModelForThem()
    {
        var (_, folder) = Shared.Value;
        var cache = ActivationCache.Open(folder);
        var options = new TrainOptions
        {
            Model = new ModelOptions { Name = cache.Index.Model, Layers = cache.Index.Layers },
            Data = new TrainDataOptions { Source = cache.Index.Data.Data, MaxLength = cache.Index.MaxLength, BatchSize = 2, ValBatches = 2, Activations = cache.Reference },
            Autoencoder = new AutoencoderOptions { ExpansionFactor = 4, K = 4, AuxK = 16, Seed = 1 },
            Optimizer = new OptimizerOptions { AccumulateGradBatches = 2, MaxTokens = Steps * 2 * 64, Lr = 3e-3 },
            Runtime = new RuntimeOptions { ValEvery = 0 },
        }.Validate();
        using var model = ModelSession.Open(options.Model.Name, "main", "0,1", CPU, ScalarType.Float32, skipSpecialTokens: true, () => throw new InvalidOperationException("no hub"));
        cache.AttachTo(model, options.Data.MaxLength);
        var run = Run.Create(Path.Combine(Fixtures.TempDir(), "run"), RunTrainer.Resolve(options, model, RunObserver.Silent));
        var outcome = new RunTrainer(run, model, () => throw new InvalidOperationException(), RunObserver.Silent).Train(resume: false);
        Assert.Equal(2 * Steps, outcome.State.Batches);
        Assert.Equal(0, cache.BatchesMissed);
        Assert.Equal(2 * Steps + 2, cache.BatchesRead);                // the training batches, then the two validation batches once
    }

    [Fact]
    public void ATrainingRunFromTheCacheResumesWhereTheStraightOneGoes()
    {
        var (data, cache) = Shared.Value;
        var straight = Path.Combine(Fixtures.TempDir(), "straight");
        var s = CliRunner.Run(TinyRun.TrainArgs(data, straight, Steps, "--activations", cache, "--checkpoint-every", "2"));
        Assert.True(s.ExitCode == 0, s.Error);
        var resumed = Path.Combine(Fixtures.TempDir(), "resumed");
        var first = CliRunner.Run(TinyRun.TrainArgs(data, resumed, 3, "--activations", cache, "--checkpoint-every", "2"));
        Assert.True(first.ExitCode == 0, first.Error);
        var runJson = Path.Combine(resumed, "run.json");
        var options = JsonNode.Parse(File.ReadAllText(runJson))!.AsObject();
        options["max_tokens"] = Steps * 2 * 64;
        File.WriteAllText(runJson, options.ToJsonString());
        var other = CliRunner.Run("train", "--resume", "--out", resumed, "--activations", Fixtures.TempDir());
        Assert.NotEqual(0, other.ExitCode);
        Assert.Contains("a resumed run keeps its own", other.Error);
        var second = CliRunner.Run("train", "--resume", "--out", resumed);
        Assert.True(second.ExitCode == 0, second.Error);
        AssertSameTensors(Path.Combine(straight, "model.safetensors"), Path.Combine(resumed, "model.safetensors"));
        Assert.Equal(TinyRun.LinesWithoutTime(Path.Combine(straight, "metrics.jsonl")), TinyRun.LinesWithoutTime(Path.Combine(resumed, "metrics.jsonl")));
    }

    [Fact]
    public void ACacheThatDoesNotMatchWhatIsAskedIsAnErrorNamingBoth()
    {
        var (data, cache) = Shared.Value;
        string Fails(params string[] args)
        {
            var r = CliRunner.Run(args);
            Assert.NotEqual(0, r.ExitCode);
            Assert.DoesNotContain("   at ", r.Error);
            return r.Error.Trim();
        }
        var run = Path.Combine(Fixtures.TempDir(), "run");
        var length = Fails(TinyRun.TrainArgs(data, run, 2, "--activations", cache, "--max-length", "16"));
        Assert.Contains("--max-length: 16 asked", length);
        Assert.Contains("max_length 32", length);
        Assert.Contains(cache, length);

        Assert.Contains("--model-dtype: bfloat16 asked", Fails(TinyRun.TrainArgs(data, run, 2, "--activations", cache, "--model-dtype", "bfloat16")));
        var dtype = Fails("resid-cos-sim", "--activations", cache, "--dtype", "bfloat16", "--out", Path.Combine(Fixtures.TempDir(), "cos.json"));
        Assert.Contains("runs in bfloat16", dtype);
        Assert.Contains("computed in float32", dtype);

        var other = Path.Combine(Fixtures.TempDir(), "other-model");
        Assert.Equal(0, CliRunner.Run("create-model", "--out", other, "--layers", "2", "--d-model", "32", "--heads", "4", "--vocab", "128", "--seed", "6").ExitCode);
        var model = Fails(TinyRun.TrainArgs(data, run, 2, "--activations", cache, "--model", other));
        Assert.Contains(other, model);
        Assert.Contains(Path.GetFullPath(TinyRun.Model), model);

        var otherData = Fails(TinyRun.TrainArgs(TinyRun.Data(40, seed: 3), run, 2, "--activations", cache));
        Assert.Contains("--data:", otherData);
        Assert.Contains(Path.GetFullPath(data), otherData);

        var layerCache = Path.Combine(Fixtures.TempDir(), "layer-cache");
        var w = CliRunner.Run("cache", "--model", TinyRun.Model, "--data", data, "--max-length", "32", "--layers", "1", "--max-tokens", "64", "--out", layerCache);
        Assert.True(w.ExitCode == 0, w.Error);
        var trainLayers = Fails(TinyRun.TrainArgs(data, run, 2, "--activations", layerCache, "--layers", "0"));
        Assert.Contains("--layers: [0] asked", trainLayers);
        Assert.Contains("holds layers [1]", trainLayers);

        // An unfinished cache, and a truncated shard, each named.
        var index = JsonNode.Parse(File.ReadAllText(ActivationCacheIndex.PathIn(layerCache)))!.AsObject();
        index["completed"] = false;
        File.WriteAllText(ActivationCacheIndex.PathIn(layerCache), index.ToJsonString());
        Assert.Contains("unfinished", Fails(TinyRun.TrainArgs(data, run, 2, "--activations", layerCache, "--layers", "1")));
        index["completed"] = true;
        File.WriteAllText(ActivationCacheIndex.PathIn(layerCache), index.ToJsonString());
        var shard = Path.Combine(layerCache, CacheShard.FileNameOf(0));
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..^8]);
        var truncated = Fails(TinyRun.TrainArgs(data, run, 2, "--activations", layerCache, "--layers", "1"));
        Assert.Contains(shard, truncated);
        Assert.Single(truncated.Split('\n'));
    }
}

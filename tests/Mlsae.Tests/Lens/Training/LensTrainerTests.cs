using System.Text.Json;
using Mlsae.Data;
using Mlsae.IO;
using Mlsae.Lens.Training;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Tests.Training;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Lens.Training;

public class LensTrainerTests
{
    sealed class Interrupted : Exception;

    // Reports progress to a callback (a test stops a run with it), shows nothing.
    sealed class Watching(Action<long> onDone) : IRunObserver
    {
        public T Progress<T>(string title, long total, string unit, Func<Action<long>, T> work, Func<string>? status = null) => work(onDone);
        public void Notice(string line) { }
    }

    // A random 2-layer model whose unembedding is scaled up: at the init's scale (N(0, 0.02²)) every
    // layer's distribution is near uniform and there is little KL for a lens to remove.
    static GptNeoX TinyModel()
    {
        var model = GptNeoXInit.Create(new GptNeoXConfig
        {
            HiddenSize = 32, NumAttentionHeads = 4, NumHiddenLayers = 2, IntermediateSize = 128, VocabSize = 64, MaxPositionEmbeddings = 64,
            UseParallelResidual = true,
        }, seed: 3);
        using var _ = no_grad();
        model.named_parameters().Single(p => p.name == "embed_out.weight").parameter.mul_(30);
        return model;
    }

    static List<long[]> Sequences(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 16).Select(_ => (long)rng.Next(64)).ToArray()).ToList();
    }

    static LensTrainOptions Options(int steps) => new()
    {
        Model = "tiny", Data = "memory", MaxLength = 16, BatchSize = 4, AccumulateGradBatches = 2, NumSteps = steps, ShuffleBatches = 3,
        CheckpointEvery = 4,
    };

    static List<TokenBatch> HeldOut() => BatchSource.InMemory(Sequences(8, seed: 99), 4)(null).ToList();

    [Fact]
    public void TrainingLowersTheHeldOutKlOfEveryTranslatorBelowTheIdentity()
    {
        using var model = TinyModel();
        var dir = Fixtures.TempDir();
        var result = new LensTrainer(Options(24), model, dir, RunObserver.Silent)
            .Fit(BatchSource.InMemory(Sequences(200, seed: 1), 4), null, HeldOut(), resume: false, revision: null);
        Assert.Equal(24, result.Steps);
        Assert.Equal(24 * 2 * 4 * 16, result.Tokens);
        Assert.Equal(2, result.KlLens.Length);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(result.KlIdentity[i] > 0.05, $"identity KL {result.KlIdentity[i]} at {i}: nothing to learn");
            Assert.True(result.KlLens[i] < 0.9 * result.KlIdentity[i], $"translator {i}: lens KL {result.KlLens[i]} vs identity {result.KlIdentity[i]}");
        }
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, LensTrainer.ResultFile))).RootElement;
        Assert.Equal(result.KlLens[1], summary.GetProperty("kl_lens")[1].GetDouble());
        Assert.Equal(24, File.ReadAllLines(Path.Combine(dir, LensTrainer.LogFile)).Length);
    }

    [Fact]
    public void LensFilesHoldTheTranslatorsInBothFormatsAndTheConfigOfThePackage()
    {
        using var model = TinyModel();
        var dir = Fixtures.TempDir();
        new LensTrainer(Options(2), model, dir, RunObserver.Silent)
            .Fit(BatchSource.InMemory(Sequences(40, seed: 1), 4), null, HeldOut(), resume: false, revision: "abc");
        Assert.Equal("{\"base_model_name_or_path\": \"tiny\", \"d_model\": 32, \"num_hidden_layers\": 2, \"bias\": true, "
            + "\"base_model_revision\": \"abc\", \"unembed_hash\": null, \"lens_type\": \"linear_tuned_lens\"}",
            File.ReadAllText(Path.Combine(dir, TunedLensFiles.ConfigFile)));
        using var scope = NewDisposeScope();
        using var pt = TorchCheckpoint.Open(Path.Combine(dir, TunedLensFiles.ParamsFile));
        using var st = SafeTensorsFile.Open(Path.Combine(dir, TunedLensFiles.SafeTensorsFile));
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias"], pt.Names);
        Assert.Equal(pt.Names.Order(), st.Names.Order());
        foreach (var name in pt.Names)
        {
            var a = pt.Read(name);
            Assert.Equal(name.EndsWith("weight") ? new long[] { 32, 32 } : [32], a.shape);
            Assert.True(a.eq(st.Read(name)).all().item<bool>(), name);
            Assert.True(a.abs().max().item<float>() > 0, $"{name} is still zero after training");
        }
    }

    [Fact]
    public void AnInterruptedRunResumesToTheUninterruptedRunsLensAndLog()
    {
        var training = BatchSource.InMemory(Sequences(120, seed: 2), 4);
        var straightDir = Fixtures.TempDir();
        using (var model = TinyModel())
            new LensTrainer(Options(10), model, straightDir, RunObserver.Silent).Fit(training, null, HeldOut(), resume: false, revision: null);

        var dir = Fixtures.TempDir();
        using (var model = TinyModel())
            Assert.Throws<Interrupted>(() => new LensTrainer(Options(10), model, dir, new Watching(tokens => { if (tokens == 6 * 2 * 4 * 16) throw new Interrupted(); }))
                .Fit(training, null, HeldOut(), resume: false, revision: null));   // at step 6, after the checkpoint at step 4 (mid shuffle window)
        using (var model = TinyModel())
            new LensTrainer(Options(10), model, dir, RunObserver.Silent).Fit(training, null, HeldOut(), resume: true, revision: null);

        foreach (var file in new[] { TunedLensFiles.ParamsFile, TunedLensFiles.SafeTensorsFile, TunedLensFiles.ConfigFile, LensTrainer.ResultFile })
            Assert.Equal(File.ReadAllBytes(Path.Combine(straightDir, file)), File.ReadAllBytes(Path.Combine(dir, file)));
        Assert.Equal(TinyRun.LinesWithoutTime(Path.Combine(straightDir, LensTrainer.LogFile)), TinyRun.LinesWithoutTime(Path.Combine(dir, LensTrainer.LogFile)));
    }

    [Fact]
    public void ScheduleIsThePackagesLinearWarmupAndDecay()
    {
        var o = Options(10) with { WarmupSteps = 2 };
        // get_linear_schedule_with_warmup(opt, 2, 10 - 2): s/2 below 2, then (8 - s)/6.
        Assert.Equal([0, 0.5, 1, 5 / 6.0, 4 / 6.0, 0.5, 2 / 6.0, 1 / 6.0, 0, 0], Enumerable.Range(0, 10).Select(s => o.Schedule(s)).ToArray(), new ToleranceComparer(1e-12));
        Assert.Equal(0.1, (Options(10) with { LrScale = 1 }).Lr, 12);
        // No warm-up (the package's default for SGD): (10 - s)/10, full lr at the first step.
        Assert.Equal([1, 0.9, 0.5, 0.1], new[] { 0, 1, 5, 9 }.Select(s => Options(10).Schedule(s)).ToArray(), new ToleranceComparer(1e-12));
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(double d) => 0;
    }
}

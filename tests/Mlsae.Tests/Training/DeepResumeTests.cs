using System.Text.Json.Nodes;
using Mlsae.Data;
using Mlsae.IO;
using Mlsae.Tests.Cli;
using Mlsae.Tests.Data;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Training;

public class DeepResumeTests
{
    static readonly Lazy<string> Model = new(() =>
    {
        // A tiny model that reads the embedded tokenizer's ids, so text sources train fast.
        var folder = Path.Combine(Fixtures.TempDir(), "model");
        var r = CliRunner.Run("create-model", "--out", folder, "--layers", "2", "--d-model", "32", "--heads", "4", "--vocab", "1024", "--seed", "3");
        Assert.True(r.ExitCode == 0, r.Error);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Fixtures.RepoRoot, "embedded", "model"), "*.json").Where(f => Path.GetFileName(f) != "config.json"))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return folder;
    });

    static string[] Args(string data, string run, long maxTokens) =>
    [
        "train", "--model", Model.Value, "--data", data, "--max-length", "64", "--batch-size", "4", "--accumulate-grad-batches", "1",
        "--max-tokens", maxTokens.ToString(), "--expansion-factor", "4", "-k", "4", "--auxk", "16", "--lr", "1e-3", "--dead-tokens-threshold", "20000",
        "--val-batches", "2", "--val-every", "0", "--log-every", "3", "--checkpoint-every", "5", "--seed", "2", "--out", run,
    ];

    [Fact]
    public void AResumeDeepIntoAMultiFileSourceOpensItThereAndEndsAsTheStraightRun()
    {
        var data = BatchSourceTests.MultiFileSource(300);
        var straight = Path.Combine(Fixtures.TempDir(), "straight");
        var s = CliRunner.Run(Args(data, straight, 1_000_000_000));
        Assert.True(s.ExitCode == 0, s.Error);
        Assert.Contains("the data ran out", s.Error);

        // Stop a few batches into the second map batch, which starts in the last file, mid logging
        // window; then continue with the straight run's budget.
        var batches = new BatchSource(new DataSource(data), new DocumentOptions(), 64, 4, Shard.All,
            () => Mlsae.Tokenization.Tokenizer.Load(Model.Value), () => throw new InvalidOperationException()).Batches().ToList();
        int stop = batches.FindIndex(b => b.Next.Document.File == 3 && b.Next.Skip > 8) + 1 - 2;   // training batches after the 2 held out
        Assert.True(stop % 3 != 0 && stop < batches.Count - 4, $"stop at {stop} of {batches.Count}");
        var resumed = Path.Combine(Fixtures.TempDir(), "resumed");
        var first = CliRunner.Run(Args(data, resumed, stop * 4 * 64));
        Assert.True(first.ExitCode == 0, first.Error);
        using (var state = SafeTensorsFile.Open(Path.Combine(resumed, "state", "training_state.safetensors")))
        {
            var position = DataPosition.FromJson(state.Metadata["position"], "state");
            Assert.Equal(3, position.Document.File);
            Assert.EndsWith("d.jsonl", position.Document.FileName);
        }
        var runJson = Path.Combine(resumed, "run.json");
        var options = JsonNode.Parse(File.ReadAllText(runJson))!.AsObject();
        options["max_tokens"] = 1_000_000_000;
        File.WriteAllText(runJson, options.ToJsonString());
        var second = CliRunner.Run("train", "--resume", "--out", resumed);
        Assert.True(second.ExitCode == 0, second.Error);
        // The validation batches read the first map batch (1024 documents from 4 files); training
        // reopened the stream in the last file and read only its remaining 176 documents. Re-reading
        // from the start would say 2224 documents from 8 files.
        Assert.Contains("(1200 documents from 5 files)", second.Error);

        Assert.Equal(TinyRun.LinesWithoutTime(Path.Combine(straight, "metrics.jsonl")), TinyRun.LinesWithoutTime(Path.Combine(resumed, "metrics.jsonl")));
        using var a = SafeTensorsFile.Open(Path.Combine(straight, "model.safetensors"));
        using var b = SafeTensorsFile.Open(Path.Combine(resumed, "model.safetensors"));
        foreach (var name in a.Names)
            Assert.True(a.Read(name).to(ScalarType.Float64).allclose(b.Read(name).to(ScalarType.Float64), rtol: 0, atol: 1e-6), name);
    }
}

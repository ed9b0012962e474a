using System.Text.Json.Nodes;
using Mlsae.Autoencoder;
using Mlsae.Runs;
using Xunit;

namespace Mlsae.Tests.Runs;

public class RunPushTests
{
    [Fact]
    public void PlanNamesTheReferencesFourReposAndWritesTheirFiles()
    {
        var run = PushFixture.Create();
        var staging = Fixtures.TempDir();
        var targets = RunPush.Plan(run, "someone/tiny", staging);
        Assert.Equal(["someone/tiny", "someone/tiny-tfm", "someone/tiny-dists", "someone/tiny-examples"], targets.Select(t => t.RepoId));
        Assert.Equal(["model", "model", "dataset", "dataset"], targets.Select(t => t.RepoType));
        Assert.Equal(["config.json", "model.safetensors"], targets[0].Files.Select(f => f.PathInRepo));
        // Our files, and beside them what datasets' push_to_hub writes (the Parquet train split and the card).
        Assert.Equal(["dists.safetensors", "dists.json", "dists.csv", "data/train-00000-of-00001.parquet", "README.md"], targets[2].Files.Select(f => f.PathInRepo));
        Assert.Equal(["examples.db", "data/train-00000-of-00001.parquet", "README.md"], targets[3].Files.Select(f => f.PathInRepo));
        var (dists, _) = Mlsae.Analysis.LayerDists.Load(Path.Combine(run, Run.DistsFile));
        var (fromParquet, meta) = Mlsae.Analysis.DistsDataset.Read([targets[2].Files[3].LocalPath], "unused");
        Assert.Equal(dists.Tokens, fromParquet.Tokens);
        Assert.Equal("0,2", meta["layers"]);
        for (int l = 0; l < 2; l++)
            for (int f = 0; f < 32; f++)
                Assert.Equal((dists.Count(l, f), dists.Total(l, f)), (fromParquet.Count(l, f), fromParquet.Total(l, f)));
        // The plain config goes as the run saved it; the weights lose last_nonzero; the -tfm keys get the prefix.
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "config.json")), File.ReadAllBytes(targets[0].Files[0].LocalPath));
        using (var plain = Mlsae.IO.SafeTensorsFile.Open(targets[0].Files[1].LocalPath))
            Assert.Equal(["decoder.weight", "encoder.weight", "pre_encoder_bias"], plain.Names.Order());
        using (var tfm = Mlsae.IO.SafeTensorsFile.Open(targets[1].Files[1].LocalPath))
            Assert.Equal(["autoencoder.decoder.weight", "autoencoder.encoder.weight", "autoencoder.pre_encoder_bias"], tfm.Names.Order());
    }

    [Fact]
    public void TheTfmConfigHoldsTheLightningModulesArguments()
    {
        var run = PushFixture.Create(analyses: false);
        var targets = RunPush.Plan(run, "someone/tiny", Fixtures.TempDir());
        Assert.Equal(2, targets.Count);   // no dists or examples in the run: no dataset repos
        var text = File.ReadAllText(targets[1].Files[0].LocalPath);
        var config = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(config.Select(kv => kv.Key).Order(StringComparer.Ordinal), config.Select(kv => kv.Key));   // sorted, as the mixin writes
        Assert.Equal("EleutherAI/pythia-70m-deduped", config["model_name"]!.GetValue<string>());
        Assert.Equal([0, 2], config["layers"]!.AsArray().Select(v => v!.GetValue<int>()));
        Assert.Equal(4, config["expansion_factor"]!.GetValue<int>());
        Assert.Equal(77, config["dead_steps_threshold"]!.GetValue<long>());
        Assert.Equal(123_456, config["dead_tokens_threshold"]!.GetValue<long>());
        Assert.Contains("\"lr\": 0.003", text);
        Assert.Contains("\"auxk_coef\": 0.03125", text);
        Assert.Equal(2, config["accumulate_grad_batches"]!.GetValue<int>());
        Assert.False(config["tuned_lens"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("someone/tiny", "someone/tiny-dists", "someone/tiny-examples")]
    [InlineData("someone/tiny-tfm", "someone/tiny-dists", "someone/tiny-examples")]
    [InlineData("someone/tiny-dists", "someone/tiny-dists", "someone/tiny-dists-examples")]
    public void DatasetNamesFollowTheReference(string repo, string dists, string examples)
    {
        Assert.Equal(dists, RunPush.DistsRepo(repo));
        Assert.Equal(examples, RunPush.ExamplesRepo(repo));
    }

    [Fact]
    public void BadInputsFailBeforeAnyUpload()
    {
        var run = PushFixture.Create(analyses: false);
        Assert.Contains("ends with -tfm", Assert.Throws<MlsaeException>(() => RunPush.Plan(run, "someone/tiny-tfm", Fixtures.TempDir())).Message);
        Assert.Contains("--dists", Assert.Throws<MlsaeException>(() => RunPush.Plan(run, "someone/tiny", Fixtures.TempDir(), dists: Path.Combine(run, "nope.safetensors"))).Message);
        File.Delete(Path.Combine(run, MlsaeCheckpoint.WeightsFile));
        Assert.Contains("no model.safetensors", Assert.Throws<MlsaeException>(() => RunPush.Plan(run, "someone/tiny", Fixtures.TempDir())).Message);
    }
}

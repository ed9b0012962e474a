using Mlsae.Interop;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Interop;

/// <summary>sparsify's hookpoint folders (cfg.json + sae.safetensors) and run folders: round trips,
/// files laid out as its 2024 and newest versions write them against an independent forward pass,
/// and bad input.</summary>
public class SparsifyFormatTests
{
    const int D = 8, F = 32, K = 4, N = 24;
    // Float32 sums in another order (EmbeddingBag vs a dense matmul); values are O(1).
    const double Atol = 1e-5, Rtol = 1e-5;

    static Tensor Inputs(long seed) => randn([N, D], generator: new TorchSharp.torch.Generator((ulong)seed)) * 2;

    static void AssertForward(ExternalTopKSae sae, (Tensor Acts, Tensor Recons) expected, Tensor x)
    {
        using var output = sae.Forward(x);
        using var dense = output.TopK.Dense(F);
        Fixtures.AssertClose(expected.Acts, dense, Atol, Rtol, "activations");
        Fixtures.AssertClose(expected.Recons, output.Recons, Atol, Rtol, "reconstruction");
    }

    [Theory]
    [InlineData("topk")]
    [InlineData("groupmax")]
    public void ANewestSparsifyFolderGivesTheIndependentForward(string activation)
    {
        using var scope = NewDisposeScope();
        using var w = ExternalSaeFiles.Random(D, F, seed: 21);
        var folder = Path.Combine(Fixtures.TempDir(), "layers.4");
        w.WriteSparsify(folder, ExternalSaeFiles.SparsifyCfg(D, F / D, K, activation));
        using var sae = SparsifyFormat.Load(folder);
        Assert.Equal(new ExternalSaeConfig
        {
            NInputs = D, NLatents = F, K = K,
            Activation = activation == "topk" ? ExternalActivation.ReluThenTopK : ExternalActivation.GroupMax,
            Format = ExternalSaeFormat.Sparsify, Hookpoint = "layers.4",
        }, sae.Config);
        var x = Inputs(22);
        AssertForward(sae, ReferenceForward.Sparsify(w, x, K, activation), x);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A2024SparsifyFolderWithBf16WeightsGivesTheIndependentForward(bool signed)
    {
        using var scope = NewDisposeScope();
        using var w = ExternalSaeFiles.Random(D, F, seed: 23, stored: ScalarType.BFloat16);
        var folder = Path.Combine(Fixtures.TempDir(), "layers.0");
        w.WriteSparsify(folder, ExternalSaeFiles.Sparsify2024Cfg(D, F, K, signed), ScalarType.BFloat16);
        using var sae = SparsifyFormat.Load(folder);
        Assert.Equal(signed ? ExternalActivation.SignedTopK : ExternalActivation.ReluThenTopK, sae.Config.Activation);
        var x = Inputs(24);
        AssertForward(sae, ReferenceForward.Sparsify(w, x, K, signed: signed), x);
    }

    [Fact]
    public void SaveThenLoadIsBitEqualAndWritesTheNewestLayout()
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 25);
        var config = new ExternalSaeConfig
        {
            NInputs = D, NLatents = F, K = K, Activation = ExternalActivation.GroupMax, Format = ExternalSaeFormat.Sparsify, Hookpoint = "layers.2",
        };
        using var sae = new ExternalTopKSae(config, w.Encoder, w.EncoderBias, w.Decoder, w.DecoderBias);
        var folder = Path.Combine(Fixtures.TempDir(), "layers.2");
        SparsifyFormat.Save(sae, folder);
        Assert.Equal($"{{\"activation\": \"groupmax\", \"expansion_factor\": 4, \"normalize_decoder\": true, \"num_latents\": {F}, \"k\": {K}, " +
            $"\"multi_topk\": false, \"skip_connection\": false, \"transcode\": false, \"d_in\": {D}}}", File.ReadAllText(Path.Combine(folder, "cfg.json")));
        var stored = Fixtures.ReadAll(Path.Combine(folder, "sae.safetensors"));
        Assert.Equal(new[] { "W_dec", "b_dec", "encoder.bias", "encoder.weight" }, stored.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new long[] { F, D }, stored["encoder.weight"].shape);
        Assert.All(stored.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
        foreach (var t in stored.Values) t.Dispose();
        using var back = SparsifyFormat.Load(folder);
        Assert.Equal(config, back.Config);
        Assert.True(TensorBits.Equal(sae.Encoder, back.Encoder));
        Assert.True(TensorBits.Equal(sae.EncoderBias, back.EncoderBias));
        Assert.True(TensorBits.Equal(sae.Decoder, back.Decoder));
        Assert.True(TensorBits.Equal(sae.DecoderBias, back.DecoderBias));
    }

    [Fact]
    public void ARunFolderLoadsItsBlockOutputsByLayerAndSkipsTheRest()
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 27);
        var run = Fixtures.TempDir();
        foreach (var hookpoint in new[] { "layers.0", "layers.1", "layers.0.mlp", "layers.1.attention", "embed_in" })
            w.WriteSparsify(Path.Combine(run, hookpoint), ExternalSaeFiles.SparsifyCfg(D, F / D, K));
        File.WriteAllText(Path.Combine(run, "config.json"), "{\"sae\": {\"k\": 4}, \"model\": \"EleutherAI/pythia-70m-deduped\", \"hookpoints\": [\"layers.*\"]}");
        Directory.CreateDirectory(Path.Combine(run, "wandb"));
        using (var set = ExternalSaeSet.Load(run))
        {
            Assert.Equal(new[] { 0, 1 }, set.Layers);
            Assert.Equal("EleutherAI/pythia-70m-deduped", set.ByLayer[1].Config.ModelName);
            Assert.Equal("layers.1", set.ByLayer[1].Config.Hookpoint);
            Assert.Equal(new[] { "embed_in", "layers.0.mlp", "layers.1.attention" }, set.Skipped.Select(s => Path.GetFileName(s.Folder)));
            Assert.Contains("the embedding output", set.Skipped[0].Reason);
        }
        using (var one = ExternalSaeSet.Load(run, layers: [1])) Assert.Equal(new[] { 1 }, one.Layers);
        var e = Assert.Throws<MlsaeException>(() => ExternalSaeSet.Load(run, layers: [3]).Dispose());
        Assert.Equal($"{run}: no SAE on layer 3 (layers here: 0, 1)", e.Message);
        // Two folders on one layer: a SAELens SAE on the stream entering block 1 beside sparsify's layers.0.
        w.WriteSaeLens(Path.Combine(run, "resid_pre_1"), ExternalSaeFiles.SaeLens6Cfg(D, F, K, hook: "blocks.1.hook_resid_pre"));
        e = Assert.Throws<MlsaeException>(() => ExternalSaeSet.Load(run).Dispose());
        Assert.Equal($"{run}: two SAEs on layer 0: layers.0 and resid_pre_1", e.Message);
    }

    [Fact]
    public void SaveManyWritesARunFolderThatLoadsBack()
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 29);
        var saeLens = new ExternalSaeConfig { NInputs = D, NLatents = F, K = K, Activation = ExternalActivation.TopKThenRelu, Format = ExternalSaeFormat.SaeLens, Hookpoint = "blocks.3.hook_resid_pre" };
        using var a = new ExternalTopKSae(saeLens, w.Encoder, w.EncoderBias, w.Decoder, w.DecoderBias);
        using var b = new ExternalTopKSae(saeLens with { Hookpoint = "blocks.0.hook_resid_post" }, w.Encoder, w.EncoderBias, w.Decoder, w.DecoderBias);
        var run = Fixtures.TempDir();
        SparsifyFormat.SaveMany([a, b], run);
        Assert.Equal(new[] { "layers.0", "layers.2" }, Directory.EnumerateDirectories(run).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var set = ExternalSaeSet.Load(run);
        Assert.Equal(new[] { 0, 2 }, set.Layers);
        Assert.Equal(ExternalActivation.ReluThenTopK, set.ByLayer[2].Config.Activation);
        var e = Assert.Throws<MlsaeException>(() => SparsifyFormat.SaveMany([a, a], Fixtures.TempDir()));
        Assert.Contains("two SAEs for hookpoint layers.2", e.Message);
    }

    [Theory]
    [InlineData(InputNormalization.LayerNorm, true, false, "sparsify's format cannot hold input normalization")]
    [InlineData(InputNormalization.None, false, false, "cannot hold a decoder bias that is not subtracted from the input")]
    [InlineData(InputNormalization.None, true, true, "cannot hold decoder-norm rescaling")]
    public void WhatSparsifyHasNoFormForIsRefusedOnSave(InputNormalization normalization, bool subtract, bool rescale, string message)
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 31);
        var config = new ExternalSaeConfig
        {
            NInputs = D, NLatents = F, K = K, Activation = ExternalActivation.TopKThenRelu, Normalization = normalization,
            SubtractDecoderBias = subtract, RescaleByDecoderNorm = rescale, Format = ExternalSaeFormat.SaeLens,
        };
        using var sae = new ExternalTopKSae(config, w.Encoder, w.EncoderBias, w.Decoder, w.DecoderBias);
        var folder = Path.Combine(Fixtures.TempDir(), "layers.0");
        Assert.Contains(message, Assert.Throws<MlsaeException>(() => SparsifyFormat.Save(sae, folder)).Message);
        Assert.False(Directory.Exists(folder));
    }

    static string Error(string folder) => Assert.Throws<MlsaeException>(() => SparsifyFormat.Load(folder).Dispose()).Message;

    static string Folder(string cfg, Dictionary<string, Tensor>? extra = null)
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 33);
        var folder = Path.Combine(Fixtures.TempDir(), "layers.1");
        w.WriteSparsify(folder, cfg, extra: extra);
        return folder;
    }

    [Theory]
    [InlineData("\"multi_topk\": false", "\"multi_topk\": true", "\"multi_topk\" is true: a Multi-TopK SAE's forward returns the reconstruction from 4k latents")]
    [InlineData("\"skip_connection\": false", "\"skip_connection\": true", "\"skip_connection\" is true")]
    [InlineData("\"transcode\": false", "\"transcode\": true", "\"transcode\" is true: transcoders")]
    [InlineData("\"activation\": \"topk\"", "\"activation\": \"jumprelu\"", "\"activation\" must be topk or groupmax, got \"jumprelu\"")]
    [InlineData("\"k\": 4", "\"k\": 4, \"batch_topk\": true", "\"batch_topk\" is not a key of sparsify's SparseCoderConfig")]
    [InlineData("\"k\": 4", "\"k\": 0", "\"k\" must be in 1..32")]
    [InlineData("\"d_in\": 8", "\"d_in\": 8.5", "\"d_in\" must be an integer, got 8.5")]
    [InlineData("\"expansion_factor\": 4", "\"expansion_factor\": 5", "tensor 'encoder.weight' has shape [32, 8], expected [40, 8]")]
    public void BadConfigsAreOneLineErrorsNamingTheFileAndKey(string from, string to, string message)
    {
        var cfg = ExternalSaeFiles.SparsifyCfg(D, F / D, K);
        Assert.Contains(from, cfg);
        var folder = Folder(cfg.Replace(from, to));
        var error = Error(folder);
        Assert.Contains(folder, error);
        Assert.Contains(message, error);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void BadWeightsAreOneLineErrorsNamingTheFileAndTensor()
    {
        var cfg = ExternalSaeFiles.SparsifyCfg(D, F / D, K);
        var skip = Folder(cfg, new() { ["W_skip"] = zeros(D, D) });
        Assert.Equal($"{Path.Combine(skip, "sae.safetensors")}: unexpected tensor 'W_skip' (a skip connection, but cfg.json says skip_connection false)", Error(skip));

        var missing = Folder(cfg);
        var weights = Path.Combine(missing, "sae.safetensors");
        var kept = Fixtures.ReadAll(weights);
        kept.Remove("encoder.bias", out var bias);
        bias!.Dispose();
        Mlsae.IO.SafeTensorsWriter.Write(weights, kept);
        foreach (var t in kept.Values) t.Dispose();
        Assert.Equal($"{weights}: missing tensor 'encoder.bias' (a sparsify SAE holds encoder.weight, encoder.bias, W_dec and b_dec)", Error(missing));

        File.WriteAllText(weights, "not a safetensors file");
        Assert.Contains(weights, Error(missing));

        var noConfig = Fixtures.TempDir();
        Assert.Contains("no cfg.json (not a sparsify SAE folder)", Error(noConfig));
    }
}

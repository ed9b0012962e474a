using Mlsae.Interop;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Interop;

/// <summary>SAELens's cfg.json + sae_weights.safetensors: round trips, files laid out as SAELens 5
/// and 6 write them against an independent forward pass, and bad input.</summary>
public class SaeLensFormatTests
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
    [InlineData("none", true, true)]
    [InlineData("none", false, false)]
    [InlineData("constant_norm_rescale", true, false)]
    [InlineData("layer_norm", true, true)]
    public void ASaeLens6FolderGivesTheIndependentForward(string normalize, bool applyBDec, bool rescale)
    {
        using var scope = NewDisposeScope();
        using var w = ExternalSaeFiles.Random(D, F, seed: 1);
        var folder = Path.Combine(Fixtures.TempDir(), "blocks.3.hook_resid_post");
        w.WriteSaeLens(folder, ExternalSaeFiles.SaeLens6Cfg(D, F, K, normalize: normalize, applyBDec: applyBDec, rescale: rescale));
        using var sae = SaeLensFormat.Load(folder);
        Assert.Equal(new ExternalSaeConfig
        {
            NInputs = D, NLatents = F, K = K, Activation = ExternalActivation.TopKThenRelu, SubtractDecoderBias = applyBDec,
            Normalization = normalize switch { "none" => InputNormalization.None, "layer_norm" => InputNormalization.LayerNorm, _ => InputNormalization.ConstantNormRescale },
            RescaleByDecoderNorm = rescale, Format = ExternalSaeFormat.SaeLens, Hookpoint = "blocks.3.hook_resid_post", ModelName = "pythia-70m-deduped",
        }, sae.Config);
        var x = Inputs(2);
        AssertForward(sae, ReferenceForward.SaeLens(w, x, K, applyBDec, normalize, rescale), x);
    }

    [Fact]
    public void Bf16WeightsLoadExactlyAndFewPositivePreActivationsGiveZeros()
    {
        using var scope = NewDisposeScope();
        using var w = ExternalSaeFiles.Random(D, F, seed: 3, stored: ScalarType.BFloat16);
        // A negative encoder bias leaves fewer than K positive pre-activations in many rows:
        // SAELens selects the K largest, then its ReLU zeroes the negative ones.
        w.EncoderBias.sub_(2.0);
        w.EncoderBias.copy_(w.EncoderBias.to(ScalarType.BFloat16).to(ScalarType.Float32));
        var folder = Fixtures.TempDir();
        w.WriteSaeLens(folder, ExternalSaeFiles.SaeLens6Cfg(D, F, K, rescale: false, dtype: "bfloat16"), ScalarType.BFloat16);
        using var sae = SaeLensFormat.Load(folder);
        Assert.True(TensorBits.Equal(w.Encoder, sae.Encoder), "bf16 upcast to float32 exactly");
        var x = Inputs(4);
        var expected = ReferenceForward.SaeLens(w, x, K);
        using var output = sae.Forward(x);
        Assert.True(output.TopKRaw.lt(0).any().item<bool>(), "the case of negative selected pre-activations is exercised");
        Assert.True(output.TopK.Values.ge(0).all().item<bool>());
        AssertForward(sae, expected, x);
    }

    [Fact]
    public void ExpectedAverageOnlyInReadsTheActivationScalerBesideIt()
    {
        using var scope = NewDisposeScope();
        using var w = ExternalSaeFiles.Random(D, F, seed: 5);
        var folder = Fixtures.TempDir();
        w.WriteSaeLens(folder, ExternalSaeFiles.SaeLens6Cfg(D, F, K, normalize: "expected_average_only_in", rescale: false));
        File.WriteAllText(Path.Combine(folder, "activation_scaler.json"), "{\"scaling_factor\": 0.37}");
        using var sae = SaeLensFormat.Load(folder);
        Assert.Equal(0.37, sae.Config.ScalingFactor);
        var x = Inputs(6);
        AssertForward(sae, ReferenceForward.SaeLens(w, x, K, normalize: "expected_average_only_in", scalingFactor: 0.37), x);
    }

    [Fact]
    public void ASaeLens5FolderLoadsWithItsHookAndKFromTheActivationKwargs()
    {
        using var scope = NewDisposeScope();
        using var w = ExternalSaeFiles.Random(D, F, seed: 7);
        var folder = Fixtures.TempDir();
        // SAELens 5 also saved a scaling_factor of ones, which it drops on load.
        w.WriteSaeLens(folder, ExternalSaeFiles.SaeLens5Cfg(D, F, K), extra: new() { ["scaling_factor"] = ones(F) });
        using var sae = SaeLensFormat.Load(folder);
        Assert.Equal(K, sae.Config.K);
        Assert.Equal("blocks.2.hook_resid_pre", sae.Config.Hookpoint);
        Assert.Equal(1, HookpointNames.Layer(sae.Config.Format, sae.Config.Hookpoint!, "test"));
        Assert.False(sae.Config.RescaleByDecoderNorm);
        var x = Inputs(8);
        AssertForward(sae, ReferenceForward.SaeLens(w, x, K), x);
    }

    [Fact]
    public void AnOlderSaeLensHookPointConfigLoads()
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 9);
        var folder = Fixtures.TempDir();
        w.WriteSaeLens(folder, $"{{\"d_in\": {D}, \"d_sae\": {F}, \"dtype\": \"torch.float32\", \"hook_point\": \"blocks.4.hook_resid_post\", \"hook_point_layer\": 4, " +
            $"\"hook_point_head_index\": null, \"activation_fn\": \"topk\", \"activation_fn_kwargs\": {{\"k\": {K}}}, \"normalize_activations\": false}}");
        using var sae = SaeLensFormat.Load(folder);
        Assert.Equal("blocks.4.hook_resid_post", sae.Config.Hookpoint);
        Assert.Equal(InputNormalization.None, sae.Config.Normalization);
        Assert.True(sae.Config.SubtractDecoderBias);
    }

    [Fact]
    public void SaveThenLoadIsBitEqualAndWritesTheNewestLayout()
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 11);
        var config = new ExternalSaeConfig
        {
            NInputs = D, NLatents = F, K = K, Activation = ExternalActivation.TopKThenRelu, SubtractDecoderBias = false,
            Normalization = InputNormalization.ExpectedAverageOnlyIn, ScalingFactor = 1.25e-5, RescaleByDecoderNorm = true,
            Format = ExternalSaeFormat.SaeLens, Hookpoint = "blocks.5.hook_resid_post", ModelName = "pythia-70m-deduped",
        };
        using var sae = new ExternalTopKSae(config, w.Encoder, w.EncoderBias, w.Decoder, w.DecoderBias);
        var folder = Fixtures.TempDir();
        SaeLensFormat.Save(sae, folder);
        Assert.Equal(
            $"{{\"d_in\": {D}, \"d_sae\": {F}, \"dtype\": \"float32\", \"device\": \"cpu\", \"apply_b_dec_to_input\": false, " +
            "\"normalize_activations\": \"expected_average_only_in\", \"reshape_activations\": \"none\", \"metadata\": {\"sae_lens_version\": \"6.18.0\", " +
            "\"sae_lens_training_version\": null, \"model_name\": \"pythia-70m-deduped\", \"hook_name\": \"blocks.5.hook_resid_post\", \"hook_head_index\": null}, " +
            $"\"k\": {K}, \"rescale_acts_by_decoder_norm\": true, \"architecture\": \"topk\"}}",
            File.ReadAllText(Path.Combine(folder, "cfg.json")));
        Assert.Equal("{\"scaling_factor\": 1.25e-05}", File.ReadAllText(Path.Combine(folder, "activation_scaler.json")));
        var stored = Fixtures.ReadAll(Path.Combine(folder, "sae_weights.safetensors"));
        Assert.Equal(new[] { "W_dec", "W_enc", "b_dec", "b_enc" }, stored.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new long[] { D, F }, stored["W_enc"].shape);
        Assert.All(stored.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
        using var back = SaeLensFormat.Load(folder);
        Assert.Equal(config, back.Config);
        Assert.True(TensorBits.Equal(sae.Encoder, back.Encoder));
        Assert.True(TensorBits.Equal(sae.EncoderBias, back.EncoderBias));
        Assert.True(TensorBits.Equal(sae.Decoder, back.Decoder));
        Assert.True(TensorBits.Equal(sae.DecoderBias, back.DecoderBias));
        foreach (var t in stored.Values) t.Dispose();
    }

    [Fact]
    public void ASparsifySaeSavedAsSaeLensKeepsItsNonZeroCodesAndReconstruction()
    {
        using var scope = NewDisposeScope();
        using var w = ExternalSaeFiles.Random(D, F, seed: 13);
        w.EncoderBias.sub_(2.0);
        var config = new ExternalSaeConfig
        {
            NInputs = D, NLatents = F, K = K, Activation = ExternalActivation.ReluThenTopK, Format = ExternalSaeFormat.Sparsify, Hookpoint = "layers.2",
        };
        using var sparsify = new ExternalTopKSae(config, w.Encoder, w.EncoderBias, w.Decoder, w.DecoderBias);
        var folder = Fixtures.TempDir();
        SaeLensFormat.Save(sparsify, folder);
        using var saeLens = SaeLensFormat.Load(folder);
        Assert.Equal("blocks.2.hook_resid_post", saeLens.Config.Hookpoint);
        var x = Inputs(14);
        using var a = sparsify.Forward(x);
        using var b = saeLens.Forward(x);
        Fixtures.AssertClose(a.TopK.Dense(F), b.TopK.Dense(F), 0, 0, "dense codes");
        Fixtures.AssertClose(a.Recons, b.Recons, Atol, Rtol, "reconstruction");
    }

    static string Error(string folder) => Assert.Throws<MlsaeException>(() => SaeLensFormat.Load(folder).Dispose()).Message;

    static string Folder(string cfg, Dictionary<string, Tensor>? extra = null, Action<ExternalSaeFiles>? edit = null)
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 15);
        edit?.Invoke(w);
        var folder = Fixtures.TempDir();
        w.WriteSaeLens(folder, cfg, extra: extra);
        return folder;
    }

    [Theory]
    [InlineData("\"architecture\": \"topk\"", "\"architecture\": \"jumprelu\"", "\"architecture\" is \"jumprelu\": only TopK SAEs")]
    [InlineData("\"architecture\": \"topk\"", "\"architecture\": \"standard\"", "a standard SAE is ReLU-sparse")]
    [InlineData("\"reshape_activations\": \"none\"", "\"reshape_activations\": \"hook_z\"", "\"reshape_activations\" is \"hook_z\"")]
    [InlineData("\"normalize_activations\": \"none\"", "\"normalize_activations\": \"expected_average_only_in\"", "no activation_scaler.json beside it")]
    [InlineData("\"normalize_activations\": \"none\"", "\"normalize_activations\": \"l2\"", "\"normalize_activations\" must be none, expected_average_only_in")]
    [InlineData("\"hook_head_index\": null", "\"hook_head_index\": 3", "\"metadata.hook_head_index\" is 3")]
    [InlineData("{\"center_writing_weights\": false}", "{\"center_writing_weights\": true}", "\"metadata.model_from_pretrained_kwargs.center_writing_weights\" is true")]
    [InlineData("\"d_sae\": 32", "\"d_sae\": \"32\"", "\"d_sae\" must be an integer, got \"32\"")]
    [InlineData("\"k\": 4", "\"k\": 33", "k must be in 1..32")]
    [InlineData("\"dtype\": \"float32\"", "\"dtype\": \"int8\"", "\"dtype\" must be one of")]
    [InlineData("\"sae_lens_version\": \"6.18.0\"", "\"sae_lens_version\": \"six\"", "\"sae_lens_version\" must be a version")]
    public void BadConfigsAreOneLineErrorsNamingTheFileAndKey(string from, string to, string message)
    {
        var cfg = ExternalSaeFiles.SaeLens6Cfg(D, F, K);
        Assert.Contains(from, cfg);
        var folder = Folder(cfg.Replace(from, to));
        var error = Error(folder);
        Assert.Contains(Path.Combine(folder, "cfg.json"), error);
        Assert.Contains(message, error);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void AnOldTopKWithoutKAndAReluActivationAreRefused()
    {
        var cfg5 = ExternalSaeFiles.SaeLens5Cfg(D, F, K);
        Assert.Contains("\"activation_fn_kwargs.k\" is missing", Error(Folder(cfg5.Replace($"{{\"k\": {K}}}", "{}"))));
        Assert.Contains("\"activation_fn_str\" is \"relu\", but the architecture is topk",
            Error(Folder(cfg5.Replace("\"activation_fn_str\": \"topk\"", "\"activation_fn_str\": \"relu\""))));
        Assert.Contains("\"architecture\" is \"standard\"",
            Error(Folder(cfg5.Replace("\"architecture\": \"topk\", ", "").Replace("\"activation_fn_str\": \"topk\"", "\"activation_fn_str\": \"relu\""))));
        Assert.Contains("\"finetuning_scaling_factor\" is true",
            Error(Folder(cfg5.Replace("\"finetuning_scaling_factor\": false", "\"finetuning_scaling_factor\": true"))));
    }

    [Fact]
    public void BadWeightsAreOneLineErrorsNamingTheFileAndTensor()
    {
        var cfg = ExternalSaeFiles.SaeLens6Cfg(D, F, K);
        string weights(string folder) => Path.Combine(folder, "sae_weights.safetensors");

        var missing = Folder(cfg);
        var kept = Fixtures.ReadAll(weights(missing));
        kept.Remove("b_dec", out var bDec);
        bDec!.Dispose();
        Mlsae.IO.SafeTensorsWriter.Write(weights(missing), kept);
        Assert.Equal($"{weights(missing)}: missing tensor 'b_dec' (a SAELens TopK SAE holds W_enc, b_enc, W_dec and b_dec)", Error(missing));

        var transposed = Folder(cfg);
        var all = Fixtures.ReadAll(weights(transposed));
        all["W_enc"] = all["W_enc"].t().contiguous();
        Mlsae.IO.SafeTensorsWriter.Write(weights(transposed), all);
        Assert.Equal($"{weights(transposed)}: tensor 'W_enc' has shape [32, 8], expected [8, 32] (d_in × d_sae of cfg.json)", Error(transposed));

        var extra = Folder(cfg, new() { ["threshold"] = zeros(F) });
        Assert.Contains($"{weights(extra)}: unexpected tensor 'threshold'", Error(extra));

        var scaled = Folder(cfg, new() { ["scaling_factor"] = full(F, 2.0f) });
        Assert.Contains("tensor 'scaling_factor' is not all ones", Error(scaled));

        var integer = Folder(cfg, new() { ["b_enc"] = zeros(F, dtype: ScalarType.Int32) });
        Assert.Contains("tensor 'b_enc' has dtype I32", Error(integer));

        var nan = Folder(cfg, edit: w => w.DecoderBias[0] = float.NaN);
        Assert.Contains("tensor 'b_dec' has 1 non-finite values", Error(nan));

        var noWeights = Fixtures.TempDir();
        File.WriteAllText(Path.Combine(noWeights, "cfg.json"), cfg);
        Assert.Contains("no sae_weights.safetensors", Error(noWeights));
        foreach (var t in kept.Values.Concat(all.Values)) t.Dispose();
    }

    [Fact]
    public void GroupMaxAndSignedSaesHaveNoSaeLensForm()
    {
        using var w = ExternalSaeFiles.Random(D, F, seed: 17);
        var config = new ExternalSaeConfig { NInputs = D, NLatents = F, K = K, Activation = ExternalActivation.GroupMax, Format = ExternalSaeFormat.Sparsify, Hookpoint = "layers.1" };
        using var sae = new ExternalTopKSae(config, w.Encoder, w.EncoderBias, w.Decoder, w.DecoderBias);
        var folder = Fixtures.TempDir();
        Assert.Contains("a GroupMax SAE has no SAELens architecture", Assert.Throws<MlsaeException>(() => SaeLensFormat.Save(sae, folder)).Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
        using var mlp = new ExternalTopKSae(config with { Activation = ExternalActivation.ReluThenTopK, Hookpoint = "layers.1.mlp" }, w.Encoder, w.EncoderBias, w.Decoder, w.DecoderBias);
        Assert.Contains("hookpoint 'layers.1.mlp' is the output of block 1's mlp sub-module", Assert.Throws<MlsaeException>(() => SaeLensFormat.Save(mlp, folder)).Message);
    }
}

using System.Text.Json.Nodes;
using Mlsae.Autoencoder;
using Mlsae.Coders;
using Mlsae.Coders.PerLayer;
using Xunit;
using static TorchSharp.torch;

namespace Mlsae.Tests.Coders;

/// <summary>A per-layer family in memory: its SAEs run alone on their rows, its numbering, state names and checkpoint.</summary>
public class PerLayerFamilyTests
{
    const int D = 8, F = 16, B = 2, T = 5;

    static MlsaeConfig Config(int k = 2) => new() { NInputs = D, NLatents = F, K = k, AuxK = 4, DeadStepsThreshold = 10 };

    [Fact]
    public void EachSaeComputesWhatItComputesAloneAndTheFamilyNumbersLatentsAcrossThem()
    {
        using var scope = NewDisposeScope();
        var settings = new SparseCoderSettings { DeadTokensThreshold = 5 };
        using var family = PerLayerFamily.Create(Config(), settings, seed: 7, layers: [1, 3]);
        using var alone = MlsaeAutoencoder.Create(Config(), settings, seed: 7);
        var inputs = randn([2, B, T, D], generator: new Generator(11)) * 3;
        Assert.Equal((2 * F, (int?)2, false), (family.NLatents, family.Layers, family.CodesPerToken));
        Assert.Equal(["layer_1.encoder", "layer_1.decoder", "layer_1.pre_encoder_bias", "layer_3.encoder", "layer_3.decoder", "layer_3.pre_encoder_bias"],
            family.NamedParameters.Select(p => p.Name));
        Assert.Equal(["layer_1.last_nonzero", "layer_1.tokens_since_fired", "layer_3.last_nonzero", "layer_3.tokens_since_fired"], family.NamedBuffers.Select(b => b.Name));

        family.InitializeFromFirstBatch(inputs);
        alone.InitializeFromFirstBatch(inputs.narrow(0, 1, 1));
        using var output = family.Forward(inputs, training: true);
        using var own = alone.Forward(inputs.narrow(0, 1, 1), training: true);
        // Row 1 is SAE 1 alone (same seed, same row), its latents numbered from F.
        Assert.True(output.Recons[1].allclose(own.Recons[0], rtol: 0, atol: 0));
        Assert.True(output.TopK.Values[1].allclose(own.TopK.Values[0], rtol: 0, atol: 0));
        Assert.Equal(own.TopK.Indices.data<long>().ToArray().Select(i => i + F), output.TopK.Indices[1].data<long>().ToArray());
        Assert.True(output.TopK.Indices[0].lt(F).all().item<bool>(), "row 0 holds SAE 0's latents 0..F−1");
        using var loss = family.Loss(inputs, output);
        using var ownLoss = alone.Loss(inputs.narrow(0, 1, 1), own);
        Assert.Equal(ownLoss.Fvu.item<float>(), loss.Fvu[1].item<float>());
        using (var first = family.Saes[0].Loss(inputs.narrow(0, 0, 1), family.Saes[0].Forward(inputs.narrow(0, 0, 1), training: false)))
            Assert.Equal(first.Total.item<float>() + ownLoss.Total.item<float>(), loss.Total.item<float>(), 6);
        // Each SAE's tally is its part of the family's one tally (what data-parallel ranks sum).
        Assert.Equal(2 * (F + 2), family.StepTally!.shape[0]);
        Assert.Equal(alone.StepTally!.data<long>().ToArray(), family.StepTally.narrow(0, F + 2, F + 2).data<long>().ToArray());
        family.AfterStep();
        alone.AfterStep();
        Assert.Equal(alone.DeadMask().data<bool>().ToArray(), family.DeadMask().narrow(0, F, F).data<bool>().ToArray());
        Assert.Equal(0, family.StepTally.sum().item<long>());
        using var decoder = family.DecoderAt(1);
        Assert.Equal(F, decoder.FirstLatent);
        Assert.True(decoder.Weight.allclose(family.Saes[1].Decoder, rtol: 0, atol: 0));
        Assert.Contains("reads [2, B, T, 8] inputs, got [3, 2, 5, 8]", Assert.Throws<MlsaeException>(() => family.Forward(zeros(3, B, T, D), training: false)).Message);
    }

    [Fact]
    public void ItsCheckpointIsOneReferenceMlsaePerLayerAndBadOnesAreErrors()
    {
        using var scope = NewDisposeScope();
        using var family = PerLayerFamily.Create(Config(), new SparseCoderSettings(), seed: 1, layers: [1, 3]);
        var dir = Fixtures.TempDir();
        family.Save(dir);
        Assert.Equal(PerLayerFamily.KindName, SparseCoderRegistry.KindOf(dir));
        Assert.Equal(MlsaeAutoencoder.KindName, SparseCoderRegistry.KindOf(Path.Combine(dir, "layer-3")));
        Assert.Equal(Config().ToJson(), File.ReadAllText(Path.Combine(dir, "layer-3", "config.json")));
        using (var loaded = SparseCoderRegistry.Load(dir, new SparseCoderSettings()))
        {
            Assert.Equal([1, 3], loaded.Layers!);
            var back = Assert.IsType<PerLayerFamily>(loaded.Coder);
            foreach (var ((name, p), (_, q)) in family.NamedParameters.Zip(back.NamedParameters)) Assert.True(p.allclose(q, rtol: 0, atol: 0), name);
        }

        var config = Path.Combine(dir, "config.json");
        string Error() => Assert.Throws<MlsaeException>(() => SparseCoderRegistry.Load(dir, new SparseCoderSettings())).Message;
        void WriteLayers(string layers) => File.WriteAllText(config, $"{{\"kind\": \"per-layer\", \"layers\": {layers}}}");
        WriteLayers("[]");
        Assert.Equal($"{config}: 'layers' is empty: a family has one SAE per layer", Error());
        WriteLayers("[1, 1]");
        Assert.Equal($"{config}: 'layers' repeats a layer: [1, 1]", Error());
        WriteLayers("[1, 2]");
        Assert.Equal($"{config}: names layer 2, but {Path.Combine(dir, "layer-2")} is missing", Error());
        WriteLayers("\"1,3\"");
        Assert.Equal($"{config}: 'layers' must be an array, found a string", Error());
        WriteLayers("[1, 3]");
        using (var other = MlsaeAutoencoder.Create(Config(k: 3), new SparseCoderSettings(), 0)) other.Save(Path.Combine(dir, "layer-3"));
        Assert.Equal($"{Path.Combine(dir, "layer-3", "config.json")}: differs from layer 1's config; a family shares one architecture", Error());
        var node = JsonNode.Parse("{\"kind\": \"per-layer\"}")!.ToJsonString();
        File.WriteAllText(config, node);
        Assert.Equal($"{config}: 'layers' is missing", Error());
    }
}

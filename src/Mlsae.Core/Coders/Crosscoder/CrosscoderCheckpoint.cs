using Mlsae.Autoencoder;
using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Coders.Crosscoder;

/// <summary>
/// A crosscoder on disk: <c>config.json</c> (<see cref="CrosscoderConfig"/>, with <c>kind: "crosscoder"</c>)
/// and <c>model.safetensors</c> with the MLSAE's keys, one slice per layer: <c>encoder.weight</c>
/// <c>[L, F, D]</c>, <c>decoder.weight</c> <c>[L, D, F]</c> and <c>pre_encoder_bias</c> <c>[L, D]</c> (slice l
/// of each is laid out as an MLSAE's tensor). This is the one place that maps them to and from the
/// crosscoder's latent-major <c>[F, L·D]</c> parameters. The dead-latent counters live in the
/// training state only (the crosscoder counts tokens, never the reference's forward calls).
/// </summary>
public static class CrosscoderCheckpoint
{
    /// <summary>Writes both files atomically, the weights first.</summary>
    public static void Save(AcausalCrosscoder coder, string folder)
    {
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var c = coder.Config;
        var encoder = coder.Encoder.detach().reshape(c.NLatents, c.NLayers, c.NInputs);   // [F, L, D]
        var decoder = coder.Decoder.detach().reshape(c.NLatents, c.NLayers, c.NInputs);
        SafeTensorsWriter.Write(Path.Combine(folder, MlsaeCheckpoint.WeightsFile), new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = encoder.permute(1, 0, 2).contiguous().cpu(),           // [L, F, D]
            ["decoder.weight"] = decoder.permute(1, 2, 0).contiguous().cpu(),           // [L, D, F]
            ["pre_encoder_bias"] = coder.PreEncoderBias.detach().contiguous().cpu(),    // [L, D]
        });
        AtomicFile.WriteText(Path.Combine(folder, MlsaeCheckpoint.ConfigFile), c.ToJson());
    }

    /// <summary>Reads the crosscoder in <paramref name="folder"/> with <paramref name="settings"/>; a
    /// missing file or tensor, or one of the wrong shape or dtype, is an error naming it.</summary>
    public static AcausalCrosscoder Load(string folder, SparseCoderSettings settings, Device device)
    {
        var configPath = Path.Combine(folder, MlsaeCheckpoint.ConfigFile);
        var weightsPath = Path.Combine(folder, MlsaeCheckpoint.WeightsFile);
        var config = CrosscoderConfig.Load(configPath);
        if (!File.Exists(weightsPath)) throw new MlsaeException($"{folder}: no {MlsaeCheckpoint.WeightsFile}");
        using var scope = NewDisposeScope();
        using var file = SafeTensorsFile.Open(weightsPath);
        Tensor Read(string key, params long[] shape)
        {
            if (!file.Names.Contains(key)) throw new MlsaeException($"{weightsPath}: missing tensor '{key}'");
            var t = file.Read(key);
            if (!t.is_floating_point()) throw new MlsaeException($"{weightsPath}: tensor '{key}' is {t.dtype}, not a floating-point weight");
            Tensors.Shapes.Check(t, $"{weightsPath}: {key}", shape);
            return t.to(ScalarType.Float32);
        }
        long l = config.NLayers, f = config.NLatents, d = config.NInputs;
        var encoder = Read("encoder.weight", l, f, d).permute(1, 0, 2).reshape(f, l * d);
        var decoder = Read("decoder.weight", l, d, f).permute(2, 0, 1).reshape(f, l * d);
        var bias = Read("pre_encoder_bias", l, d);
        return new AcausalCrosscoder(config, encoder, decoder, bias, settings, device);
    }
}

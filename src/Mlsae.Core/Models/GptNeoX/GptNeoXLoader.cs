using Mlsae.IO;
using Mlsae.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>Loads a GPT-NeoX from an HF model folder (<c>config.json</c> plus safetensors or
/// <c>pytorch_model.bin</c>, sharded or not). Weights stored as fp16/bf16 are upcast exactly to
/// float32; the model then moves to the requested device and compute dtype.</summary>
public static partial class GptNeoXLoader
{
    /// <summary>Buffers real Pythia checkpoints carry that transformers never uses.</summary>
    public static bool IsLegacyBuffer(string key) =>
        key.EndsWith(".attention.bias", StringComparison.Ordinal)
        || key.EndsWith(".attention.masked_bias", StringComparison.Ordinal)
        || key.EndsWith(".inv_freq", StringComparison.Ordinal);

    /// <summary>Loads the model in <paramref name="folder"/>. Code outside this folder loads through
    /// <see cref="ModelRegistry.Load"/>, which picks this loader for <c>model_type</c> gpt_neox.
    /// Before any module is created, the config is checked against the weight file's header
    /// (<see cref="CheckWeights"/>) and the memory it needs against the machine's
    /// (<see cref="CheckMemory"/>), so a bad or hostile config.json allocates nothing.</summary>
    /// <remarks>Weights with NaN or infinite values are an error naming the tensor unless <paramref name="allowNonFinite"/>.</remarks>
    public static GptNeoX Load(string folder, Device? device = null, ScalarType dtype = ScalarType.Float32, bool allowNonFinite = false) =>
        Load(folder, device, dtype, Tensors.MachineMemory.AvailableBytes(), allowNonFinite);

    /// <summary><see cref="Load(string, Device?, ScalarType, bool)"/> against <paramref name="availableBytes"/> of memory.</summary>
    internal static GptNeoX Load(string folder, Device? device, ScalarType dtype, long availableBytes, bool allowNonFinite = false)
    {
        if (!Directory.Exists(folder)) throw new MlsaeException($"{folder}: model folder not found");
        CheckComputeDType(dtype);
        var config = GptNeoXConfig.Load(Path.Combine(folder, "config.json"));
        using var weights = WeightSource.OpenFolder(folder);
        CheckWeights(config, weights);
        CheckMemory(config, folder, availableBytes);
        var model = new GptNeoX(config, folder);
        try
        {
            LoadWeights(model, weights, allowNonFinite);
            model.eval();
            return Move(model, device ?? CPU, dtype);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Moves the model to a device and compute dtype.</summary>
    public static GptNeoX Move(GptNeoX model, Device device, ScalarType dtype)
    {
        CheckComputeDType(dtype);
        model.to(device);
        model.to(dtype);
        return model;
    }

    static void CheckComputeDType(ScalarType dtype)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new MlsaeException($"--dtype: {dtype} is not a compute dtype (float32, bfloat16, float16)");
    }

    /// <summary>Copies every parameter of <paramref name="model"/> from <paramref name="weights"/>,
    /// by the model's own parameter names. Missing, mis-shaped or unexpected tensors are errors
    /// naming the key; legacy buffers are ignored.</summary>
    public static void LoadWeights(GptNeoX model, IWeightSource weights, bool allowNonFinite = false)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                if (!weights.Names.Contains(name))
                {
                    if (name == "embed_out.weight" && model.Config.TieWordEmbeddings) continue;
                    throw new MlsaeException($"{weights.Path}: missing weight '{name}'");
                }
                var shape = weights.Shape(name);
                if (!shape.SequenceEqual(parameter.shape))
                    throw new MlsaeException(
                        $"{weights.Path}: weight '{name}' has shape {Shapes.Format(shape)}, expected {Shapes.Format(parameter.shape)} from config.json");
                var stored = weights.DType(name);
                if (stored is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
                    throw new MlsaeException($"{weights.Path}: weight '{name}' has non-float dtype {stored}");
                using var value = weights.Read(name);
                // A NaN weight would pass silently into every activation (75–100% NaN outputs) and be
                // blamed on the learning rate later; refuse it here, by name.
                if (!allowNonFinite && WeightChecks.CountNonFinite(value) is long bad and > 0)
                    throw new MlsaeException($"{weights.Path}: tensor '{name}' has {bad} non-finite values (pass --allow-non-finite-weights to load it anyway)");
                using var upcast = value.to(ScalarType.Float32);
                parameter.copy_(upcast);
            }
        }
        foreach (var name in weights.Names)
            if (!parameters.ContainsKey(name) && !IsLegacyBuffer(name))
                throw new MlsaeException($"{weights.Path}: unexpected tensor '{name}' (not a GPTNeoXForCausalLM weight)");
    }
}

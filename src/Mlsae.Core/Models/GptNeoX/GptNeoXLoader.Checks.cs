using Mlsae.IO;
using Mlsae.Tensors;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>What the loader checks from config.json and the weight file's header alone, before it
/// allocates a model: the shapes the config implies, and the memory they need.</summary>
public static partial class GptNeoXLoader
{
    /// <summary>
    /// The parameters a config implies, by checkpoint key, in the model's registration order (that of
    /// <c>named_parameters()</c>): embed_in <c>[V, D]</c>; per layer the two LayerNorms <c>[D]</c>,
    /// query_key_value <c>[3D, D]</c>, dense <c>[D, D]</c> (biases when <c>attention_bias</c>),
    /// dense_h_to_4h <c>[I, D]</c> and dense_4h_to_h <c>[D, I]</c> with biases; final_layer_norm
    /// <c>[D]</c>; embed_out <c>[V, D]</c> (which a tied checkpoint may leave out).
    /// </summary>
    public static IReadOnlyList<(string Name, long[] Shape)> WeightShapes(GptNeoXConfig config)
    {
        long d = config.HiddenSize, v = config.VocabSize, i = config.IntermediateSize;
        var shapes = new List<(string, long[])> { ("gpt_neox.embed_in.weight", [v, d]) };
        void Linear(string name, long outputs, long inputs, bool bias)
        {
            shapes.Add((name + ".weight", [outputs, inputs]));
            if (bias) shapes.Add((name + ".bias", [outputs]));
        }
        void Norm(string name)
        {
            shapes.Add((name + ".weight", [d]));
            shapes.Add((name + ".bias", [d]));
        }
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            string layer = $"gpt_neox.layers.{l}.";
            Norm(layer + "input_layernorm");
            Norm(layer + "post_attention_layernorm");
            Linear(layer + "attention.query_key_value", 3 * d, d, config.AttentionBias);
            Linear(layer + "attention.dense", d, d, config.AttentionBias);
            Linear(layer + "mlp.dense_h_to_4h", i, d, bias: true);
            Linear(layer + "mlp.dense_4h_to_h", d, i, bias: true);
        }
        Norm("gpt_neox.final_layer_norm");
        shapes.Add(("embed_out.weight", [v, d]));
        return shapes;
    }

    /// <summary>The number of distinct parameters (a tied embed_out counted once).</summary>
    public static long ParameterCount(GptNeoXConfig config) =>
        WeightShapes(config).Where(w => !(w.Name == "embed_out.weight" && config.TieWordEmbeddings))
            .Sum(w => w.Shape.Aggregate(1L, (n, s) => checked(n * s)));

    /// <summary>
    /// Checks <paramref name="weights"/>' header against the shapes <paramref name="config"/> implies,
    /// reading no tensor data: the first missing weight, mis-shaped weight (name, found and expected
    /// shape), non-float weight or unexpected tensor is an <see cref="MlsaeException"/>. Legacy
    /// buffers are ignored; a tied checkpoint may leave out embed_out.weight.
    /// </summary>
    public static void CheckWeights(GptNeoXConfig config, IWeightSource weights)
    {
        var expected = WeightShapes(config);
        foreach (var (name, shape) in expected)
        {
            if (!weights.Names.Contains(name))
            {
                if (name == "embed_out.weight" && config.TieWordEmbeddings) continue;
                throw new MlsaeException($"{weights.Path}: missing weight '{name}'");
            }
            var found = weights.Shape(name);
            if (!found.SequenceEqual(shape))
                throw new MlsaeException(
                    $"{weights.Path}: weight '{name}' has shape {Shapes.Format(found)}, expected {Shapes.Format(shape)} from config.json");
            var stored = weights.DType(name);
            if (stored is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64))
                throw new MlsaeException($"{weights.Path}: weight '{name}' has non-float dtype {stored}");
        }
        var names = expected.Select(w => w.Name).ToHashSet(StringComparer.Ordinal);
        // In name order, so the error is the same whichever format or shard order holds the tensors.
        foreach (var name in weights.Names.Order(StringComparer.Ordinal))
            if (!names.Contains(name) && !IsLegacyBuffer(name))
                throw new MlsaeException($"{weights.Path}: unexpected tensor '{name}' (not a GPTNeoXForCausalLM weight)");
    }

    /// <summary>The host memory loading needs: every parameter in float32 (4 bytes), since the model is
    /// built and filled on the CPU in float32 before it moves to the device and compute dtype.</summary>
    public static long LoadBytes(GptNeoXConfig config) => checked(ParameterCount(config) * sizeof(float));

    /// <summary>Refuses a model whose <see cref="LoadBytes"/> exceed <paramref name="availableBytes"/>,
    /// with both numbers and what to change.</summary>
    public static void CheckMemory(GptNeoXConfig config, string folder, long availableBytes)
    {
        long needed = LoadBytes(config);
        if (needed <= availableBytes) return;
        throw new MlsaeException(
            $"{folder}: loading the model needs {Size(needed)} of memory ({ParameterCount(config):N0} parameters × 4 bytes, "
            + $"float32 while loading, whatever --dtype), more than the {Size(availableBytes)} this machine has "
            + "(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes); choose a smaller --model");
    }

    static string Size(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):0.##} GiB"
        : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):0.#} MiB"
        : $"{bytes:N0} bytes";
}

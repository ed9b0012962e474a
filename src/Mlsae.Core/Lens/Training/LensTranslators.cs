using Mlsae.Tensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Lens.Training;

/// <summary>
/// The trainable translators of a tuned lens, one per HF hidden state <c>hidden_states[i]</c>,
/// i = 0..L−1 (index 0 the embeddings, i the stream entering block i; the last block's output
/// needs none): translator i maps <c>h ↦ h + h·W_iᵀ + b_i</c>, the package's residual form, so
/// that all-zero parameters (the initialization) are the identity (the logit lens) and weight
/// decay pulls toward it. Float32, on the model's device.
/// </summary>
public sealed class LensTranslators : IDisposable
{
    /// <summary>W_i <c>[D, D]</c>, one per translator.</summary>
    public IReadOnlyList<Parameter> Weights { get; }
    /// <summary>b_i <c>[D]</c>, one per translator.</summary>
    public IReadOnlyList<Parameter> Biases { get; }

    /// <summary>L translators of width <paramref name="dModel"/>, all zero.</summary>
    public LensTranslators(int layers, long dModel, Device device)
    {
        Weights = Enumerable.Range(0, layers).Select(_ => new Parameter(zeros([dModel, dModel], ScalarType.Float32, device))).ToArray();
        Biases = Enumerable.Range(0, layers).Select(_ => new Parameter(zeros([dModel], ScalarType.Float32, device))).ToArray();
    }

    /// <summary>Translators count (L).</summary>
    public int Count => Weights.Count;

    /// <summary>Every parameter: W_0, b_0, W_1, b_1, … (the state dict's order).</summary>
    public IReadOnlyList<Parameter> Parameters => Enumerable.Range(0, Count).SelectMany(i => new[] { Weights[i], Biases[i] }).ToArray();

    /// <summary>Translator <paramref name="i"/> on <paramref name="h"/>. // [B, T, D] → [B, T, D]</summary>
    public Tensor Translate(Tensor h, int i)
    {
        Shapes.Check(h, $"hidden_states[{i}]", -1, -1, Weights[i].shape[0]);
        return h + nn.functional.linear(h, Weights[i], Biases[i]);
    }

    /// <summary>The package's state dict (<c>layer_translators.state_dict()</c>): <c>{i}.weight</c>
    /// <c>[D, D]</c> and <c>{i}.bias</c> <c>[D]</c>, in module order, detached.</summary>
    public List<KeyValuePair<string, Tensor>> StateDict() =>
        Enumerable.Range(0, Count).SelectMany(i => new[]
        {
            KeyValuePair.Create($"{i}.weight", Weights[i].detach()), KeyValuePair.Create($"{i}.bias", Biases[i].detach()),
        }).ToList();

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var p in Weights) p.Dispose();
        foreach (var p in Biases) p.Dispose();
    }
}

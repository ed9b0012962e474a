using TorchSharp;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>Random initialization as transformers' <c>GPTNeoXPreTrainedModel._init_weights</c>:
/// linear and embedding weights N(0, initializer_range²), biases 0, LayerNorm weight 1 and bias 0.</summary>
public static class GptNeoXInit
{
    /// <summary>The std transformers uses for Pythia configs.</summary>
    public const double InitializerRange = 0.02;

    /// <summary>Creates a randomly initialized model, reproducible from <paramref name="seed"/>.</summary>
    public static GptNeoX Create(GptNeoXConfig config, long seed)
    {
        var model = new GptNeoX(config);
        var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            // Sorted by name so the draw order does not depend on registration order.
            foreach (var (name, p) in model.named_parameters().OrderBy(p => p.name, StringComparer.Ordinal))
            {
                bool isNorm = name.Contains("layernorm", StringComparison.Ordinal) || name.Contains("final_layer_norm", StringComparison.Ordinal);
                if (isNorm) { if (name.EndsWith(".weight", StringComparison.Ordinal)) p.fill_(1.0); else p.zero_(); }
                else if (name.EndsWith(".bias", StringComparison.Ordinal)) p.zero_();
                else p.normal_(0.0, InitializerRange, generator);
            }
        }
        model.eval();
        return model;
    }
}

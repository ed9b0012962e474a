using Mlsae.Tensors;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>GPT-NeoX MLP: dense_4h_to_h(act(dense_h_to_4h(x))).</summary>
public sealed class GptNeoXMlp : nn.Module
{
    [ComponentName(Name = "dense_h_to_4h")] readonly Linear denseHTo4h;
    [ComponentName(Name = "dense_4h_to_h")] readonly Linear dense4hToH;
    readonly string activation;

    /// <summary>Creates the projections.</summary>
    public GptNeoXMlp(GptNeoXConfig config) : base("mlp")
    {
        denseHTo4h = nn.Linear(config.HiddenSize, config.IntermediateSize);
        dense4hToH = nn.Linear(config.IntermediateSize, config.HiddenSize);
        activation = config.HiddenAct;
        RegisterComponents();
    }

    /// <summary><c>[B, T, D]</c> → <c>[B, T, D]</c>.</summary>
    public Tensor Forward(Tensor x) => BFloat16Matmul.Linear(dense4hToH, Activate(BFloat16Matmul.Linear(denseHTo4h, x)));

    Tensor Activate(Tensor h) => activation switch
    {
        // Pythia's "gelu" is the exact erf form; the tanh form would be off by ~3e-3.
        "gelu" => nn.functional.gelu(h),
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => nn.functional.gelu(h, TorchSharp.Modules.GELU.Approximate.tanh),
        "relu" => nn.functional.relu(h),
        "silu" => nn.functional.silu(h),
        _ => throw new MlsaeException($"hidden_act '{activation}' is not supported"),
    };
}

using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>One GPT-NeoX block, with parallel or sequential residual.</summary>
public sealed class GptNeoXLayer : nn.Module
{
    [ComponentName(Name = "input_layernorm")] readonly LayerNorm inputLayernorm;
    [ComponentName(Name = "post_attention_layernorm")] readonly LayerNorm postAttentionLayernorm;
    [ComponentName(Name = "attention")] readonly GptNeoXAttention attention;
    [ComponentName(Name = "mlp")] readonly GptNeoXMlp mlp;
    readonly bool parallelResidual;

    /// <summary>Creates the block.</summary>
    public GptNeoXLayer(GptNeoXConfig config) : base("layer")
    {
        inputLayernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        postAttentionLayernorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        attention = new GptNeoXAttention(config);
        mlp = new GptNeoXMlp(config);
        parallelResidual = config.UseParallelResidual;
        RegisterComponents();
    }

    /// <summary>The block output (the residual stream after this block), <c>[B, T, D]</c>.</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin)
    {
        var attn = attention.Forward(inputLayernorm.forward(x), cos, sin);
        if (parallelResidual)
            return mlp.Forward(postAttentionLayernorm.forward(x)) + attn + x;
        var a = attn + x;
        return mlp.Forward(postAttentionLayernorm.forward(a)) + a;
    }
}

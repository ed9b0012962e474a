using Mlsae.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Mlsae.Bench;

/// <summary>A straightforward GPT-NeoX forward over the model's state dict, written the way
/// transformers' eager path is: explicit attention scores, causal mask, softmax. The baseline.</summary>
public static class EagerReference
{
    public static Tensor Logits(GptNeoX model, Tensor tokens)
    {
        var c = model.Config;
        var p = model.state_dict();
        Tensor P(string name) => p[name];
        long b = tokens.shape[0], t = tokens.shape[1];
        int h = c.NumAttentionHeads, hs = c.HeadSize, rd = c.RotaryNdims;
        var (cos, sin) = RotaryEmbedding.Tables(c, t, model.Device, model.DType);
        var mask = ones(t, t, ScalarType.Bool).tril().logical_not();
        var x = P("gpt_neox.embed_in.weight").index_select(0, tokens.reshape(-1)).reshape(b, t, c.HiddenSize);
        Tensor Ln(Tensor v, string n) => nn.functional.layer_norm(v, [c.HiddenSize], P(n + ".weight"), P(n + ".bias"), c.LayerNormEps);
        for (int i = 0; i < c.NumHiddenLayers; i++)
        {
            string l = $"gpt_neox.layers.{i}.";
            var qkv = nn.functional.linear(Ln(x, l + "input_layernorm"), P(l + "attention.query_key_value.weight"), P(l + "attention.query_key_value.bias"))
                .view(b, t, h, 3 * hs).permute(0, 2, 1, 3);
            var q = RotaryEmbedding.Apply(qkv[.., .., .., ..hs], cos, sin);
            var k = RotaryEmbedding.Apply(qkv[.., .., .., hs..(2 * hs)], cos, sin);
            var v = qkv[.., .., .., (2 * hs)..];
            var scores = q.matmul(k.transpose(-1, -2)) / Math.Sqrt(hs);
            var probs = scores.masked_fill(mask, float.NegativeInfinity).softmax(-1);
            var attn = nn.functional.linear(probs.matmul(v).permute(0, 2, 1, 3).reshape(b, t, c.HiddenSize),
                P(l + "attention.dense.weight"), P(l + "attention.dense.bias"));
            var mlp = nn.functional.linear(
                nn.functional.gelu(nn.functional.linear(Ln(x, l + "post_attention_layernorm"), P(l + "mlp.dense_h_to_4h.weight"), P(l + "mlp.dense_h_to_4h.bias"))),
                P(l + "mlp.dense_4h_to_h.weight"), P(l + "mlp.dense_4h_to_h.bias"));
            x = mlp + attn + x;
        }
        return nn.functional.linear(Ln(x, "gpt_neox.final_layer_norm"), P("embed_out.weight"));
    }
}

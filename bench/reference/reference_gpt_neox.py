"""A GPT-NeoX forward by hand, the way transformers' eager GPTNeoX path computes it (the path the
reference's Transformer.hidden_states runs on CPU), returning every block's output.

Pythia-70m's shape with random weights: the benchmark times the computation, not a model.
"""

import math

import torch
from torch.nn import functional

PYTHIA_70M = {"d": 512, "layers": 6, "heads": 8, "intermediate": 2048, "vocab": 50304, "rotary_pct": 0.25,
              "rotary_base": 10000, "eps": 1e-5}


def random_weights(shape, seed=0):
    """Weights in the checkpoint's layout: normal(0, 0.02) matrices, zero biases, unit layer norms."""
    g = torch.Generator().manual_seed(seed)
    d, i = shape["d"], shape["intermediate"]

    def normal(*size):
        return torch.randn(*size, generator=g) * 0.02

    layers = []
    for _ in range(shape["layers"]):
        layers.append({
            "ln1_w": torch.ones(d), "ln1_b": torch.zeros(d), "ln2_w": torch.ones(d), "ln2_b": torch.zeros(d),
            "qkv_w": normal(3 * d, d), "qkv_b": torch.zeros(3 * d),
            "dense_w": normal(d, d), "dense_b": torch.zeros(d),
            "h_to_4h_w": normal(i, d), "h_to_4h_b": torch.zeros(i),
            "4h_to_h_w": normal(d, i), "4h_to_h_b": torch.zeros(d),
        })
    return {"embed_in": normal(shape["vocab"], d), "layers": layers}


def rotary_tables(shape, t):
    """cos and sin over the rotary dims (rotary_pct of each head), positions 0..t-1. // [T, R] each"""
    rotary = int(shape["d"] // shape["heads"] * shape["rotary_pct"])
    inv_freq = 1.0 / (shape["rotary_base"] ** (torch.arange(0, rotary, 2).float() / rotary))
    freqs = torch.outer(torch.arange(t).float(), inv_freq)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos(), emb.sin()


def rotate(x, cos, sin):
    """Rotary embedding on the first R dims of each head, the rest passed through. // [B, H, T, hs]"""
    r = cos.shape[-1]
    rot, rest = x[..., :r], x[..., r:]
    half = r // 2
    rotated = torch.cat([-rot[..., half:], rot[..., :half]], dim=-1)
    return torch.cat([rot * cos + rotated * sin, rest], dim=-1)


def attention(layer, x, shape, cos, sin, causal, additive):
    """Eager attention: scores = q·kᵀ/√hs, the causal mask applied by where() and again as an
    additive mask (both, as transformers' eager path with its 4-d mask), softmax, ·v. // [B, T, D]"""
    b, t, d = x.shape
    h = shape["heads"]
    hs = d // h
    qkv = functional.linear(x, layer["qkv_w"], layer["qkv_b"]).view(b, t, h, 3 * hs)
    q = rotate(qkv[..., :hs].permute(0, 2, 1, 3), cos, sin)
    k = rotate(qkv[..., hs:2 * hs].permute(0, 2, 1, 3), cos, sin)
    v = qkv[..., 2 * hs:].permute(0, 2, 1, 3)
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hs)               # [B, H, T, T]
    scores = torch.where(causal, scores, torch.tensor(torch.finfo(scores.dtype).min))
    probs = functional.softmax(scores + additive, dim=-1)
    out = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, t, d)
    return functional.linear(out, layer["dense_w"], layer["dense_b"])


def mlp(layer, x):
    """dense_4h_to_h(gelu(dense_h_to_4h(x))), gelu exact (Pythia's hidden_act "gelu"). // [B, T, D]"""
    return functional.linear(functional.gelu(functional.linear(x, layer["h_to_4h_w"], layer["h_to_4h_b"])),
                             layer["4h_to_h_w"], layer["4h_to_h_b"])


@torch.no_grad()
def hidden_states(weights, shape, tokens):
    """The output of every block (no final layer norm), parallel residual:
    x + attn(ln1(x)) + mlp(ln2(x)). tokens [B, T] -> [L, B, T, D]"""
    t = tokens.shape[1]
    cos, sin = rotary_tables(shape, t)
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    additive = torch.zeros(t, t).masked_fill(~causal, torch.finfo(torch.float32).min)
    x = functional.embedding(tokens, weights["embed_in"])
    d, eps = shape["d"], shape["eps"]
    out = []
    for layer in weights["layers"]:
        attn = attention(layer, functional.layer_norm(x, (d,), layer["ln1_w"], layer["ln1_b"], eps), shape, cos, sin, causal, additive)
        x = x + attn + mlp(layer, functional.layer_norm(x, (d,), layer["ln2_w"], layer["ln2_b"], eps))
        out.append(x)
    return torch.stack(out)


def zero_special(hidden, tokens, special=(0,)):
    """Zeroes the positions of special tokens (Pythia's <|endoftext|>, id 0, is its BOS and EOS),
    as the reference's Transformer.forward does with skip_special_tokens. hidden [L, B, T, D]"""
    mask = torch.ones_like(tokens, dtype=torch.bool)
    for token in special:
        mask &= tokens.ne(token)
    hidden[:, ~mask, :] = 0.0
    return hidden

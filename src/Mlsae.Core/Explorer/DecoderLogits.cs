using Mlsae.Coders;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Explorer;

/// <summary>The tokens a latent's decoder direction promotes and suppresses: the direction times
/// the unembedding, with no final norm, as sae_vis computes a feature's logits (W_dec[f] · W_U).</summary>
/// <param name="Top">The largest logits.</param>
/// <param name="Bottom">The smallest logits.</param>
/// <param name="Layer">The position in the coder's layer list whose decoder vector was read: null for the
/// MLSAE (one vector for every layer); a per-layer latent's own SAE; a crosscoder latent's layer with the
/// largest decoder norm (its slices differ per layer).</param>
public sealed record DecoderLogits(TokenLogit[] Top, TokenLogit[] Bottom, int? Layer)
{
    /// <summary>The <paramref name="k"/> largest and smallest entries of W_U · d for latent <paramref name="latent"/>.</summary>
    public static DecoderLogits Compute(ILanguageModel model, ISparseCoder sae, int latent, int k)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (layer, direction) = Direction(sae, latent);
        using var unembed = model.OutputEmbeddings();                                  // [V, D]
        var logits = unembed.mv(direction.to(unembed.dtype, unembed.device)).unsqueeze(0);   // [1, V]
        return new DecoderLogits(TokenLogit.Extremes(logits, k, largest: true)[0], TokenLogit.Extremes(logits, k, largest: false)[0], layer);
    }

    /// <summary>The decoder vector of <paramref name="latent"/> that stands for it, and its layer position. // [D]</summary>
    static (int? Layer, Tensor Direction) Direction(ISparseCoder sae, int latent)
    {
        if (sae.Layers is not int layers)
        {
            using var decoder = sae.DecoderAt(0);
            return (null, decoder.Row(latent) ?? throw new MlsaeException($"latent {latent} out of range (the SAE has latents 0..{sae.NLatents - 1})"));
        }
        (int Layer, Tensor Row, double Norm)? best = null;
        for (int l = 0; l < layers; l++)
        {
            using var decoder = sae.DecoderAt(l);
            if (decoder.Row(latent) is not { } row) continue;
            double norm = row.norm().item<float>();
            if (best is null || norm > best.Value.Norm) best = (l, row, norm);
        }
        return best is { } b ? (b.Layer, b.Row) : throw new MlsaeException($"latent {latent} out of range (the SAE has latents 0..{sae.NLatents - 1})");
    }
}

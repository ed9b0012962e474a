using Mlsae.Autoencoder;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Explorer;

/// <summary>The tokens a latent's decoder direction promotes and suppresses: the direction times
/// the unembedding, with no final norm, as sae_vis computes a feature's logits (W_dec[f] · W_U).</summary>
/// <param name="Top">The largest logits.</param>
/// <param name="Bottom">The smallest logits.</param>
public sealed record DecoderLogits(TokenLogit[] Top, TokenLogit[] Bottom)
{
    /// <summary>The <paramref name="k"/> largest and smallest entries of W_U · d for latent <paramref name="latent"/>.</summary>
    public static DecoderLogits Compute(ILanguageModel model, MlsaeAutoencoder sae, int latent, int k)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var unembed = model.OutputEmbeddings();                                  // [V, D]
        var direction = sae.Decoder[latent].to(unembed.dtype, unembed.device);          // [D]
        var logits = unembed.mv(direction).unsqueeze(0);                                // [1, V]
        return new DecoderLogits(TokenLogit.Extremes(logits, k, largest: true)[0], TokenLogit.Extremes(logits, k, largest: false)[0]);
    }
}

namespace Mlsae.Interop;

/// <summary>
/// How an external SAE turns encoder pre-activations <c>W_enc·x + b_enc</c> into its K latents.
/// The tools differ in the order of ReLU and selection, which changes which latents hold the
/// zero-valued slots when fewer than K pre-activations are positive (the non-zero codes and the
/// reconstruction are the same).
/// </summary>
public enum ExternalActivation
{
    /// <summary>sparsify's <c>topk</c>: ReLU, then the K largest (<c>fused_encoder</c>).</summary>
    ReluThenTopK,
    /// <summary>SAELens's <c>topk</c>: the K largest pre-activations, then ReLU on those (<c>TopK.forward</c>).</summary>
    TopKThenRelu,
    /// <summary>sparsify's <c>groupmax</c>: ReLU, then the maximum of each of K equal consecutive groups of latents.</summary>
    GroupMax,
    /// <summary>sparsify's <c>signed: true</c> (June–August 2024): no ReLU; the K largest by absolute
    /// value, keeping their sign.</summary>
    SignedTopK,
}

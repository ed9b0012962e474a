namespace Mlsae.Interop;

/// <summary>The tool whose files an external SAE was read from; it also names the hookpoint scheme
/// (<see cref="HookpointNames"/>).</summary>
public enum ExternalSaeFormat
{
    /// <summary>SAELens: <c>cfg.json</c> + <c>sae_weights.safetensors</c>, TransformerLens hook names.</summary>
    SaeLens,
    /// <summary>EleutherAI sparsify: <c>cfg.json</c> + <c>sae.safetensors</c> in a folder named after the hookpoint (a module path).</summary>
    Sparsify,
}

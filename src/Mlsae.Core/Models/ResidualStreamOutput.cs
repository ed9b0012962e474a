using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>One forward pass of a <see cref="ResidualStream"/> seen from both sides of its hook.
/// The tensors belong to the caller's dispose scope.</summary>
/// <param name="Inputs">What the SAE reads: hooked (e.g. lens-space) and zeroed in the hook's order. // [L, B, T, D] float32</param>
/// <param name="Hidden">The model's own block outputs, special positions zeroed; the same tensor as
/// <paramref name="Inputs"/> without a hook. // [L, B, T, D] float32</param>
public sealed record ResidualStreamOutput(Tensor Inputs, Tensor Hidden);

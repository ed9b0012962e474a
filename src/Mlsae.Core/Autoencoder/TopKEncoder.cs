using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// The encoder and its TopK (and AuxK) selection as one autograd function, so the backward pass
/// touches only the selected latents: the encoder's weight gradient is a sparse
/// <c>[F, N]·[N, D]</c> product over the N·(K + AuxK) selected entries instead of the dense
/// <c>[F, N]·[N, D]</c> matmul autograd would run, and the bias gradient is one <c>[F]·[F, D]</c>
/// product. The values it returns are the raw (pre-ReLU) TopK values, exactly those of
/// <c>topk((x − b) Wᵀ)</c>. The standardized input is a constant (no gradient), as in training.
/// </summary>
sealed class TopKEncoder : autograd.MultiTensorFunction<TopKEncoder>
{
    /// <summary>What one call selects, filled during the forward pass.</summary>
    public sealed class Selection
    {
        /// <summary>K per vector.</summary>
        public required int K { get; init; }
        /// <summary>AuxK per vector, or null.</summary>
        public required int? AuxK { get; init; }
        /// <summary>Given the TopK of this call, updates the dead-latent state and returns the dead mask. // [F] bool</summary>
        public required Func<TopK, Tensor> DeadMask { get; init; }
        /// <summary>Dtype of the encoder matmul (float32, or bfloat16/float16 by explicit casting; the weights stay float32).</summary>
        public ScalarType ComputeDType { get; init; } = ScalarType.Float32;
        /// <summary>TopK indices. // [N, K]</summary>
        public Tensor? TopKIndices { get; set; }
        /// <summary>AuxK indices. // [N, AuxK]</summary>
        public Tensor? AuxKIndices { get; set; }
        /// <summary>The dead mask used for AuxK. // [F]</summary>
        public Tensor? Dead { get; set; }
    }

    /// <inheritdoc />
    public override string Name => nameof(TopKEncoder);

    /// <summary>Runs the encoder: <c>[x, bias, weight, selection]</c> → <c>[topk values, auxk values?]</c>.</summary>
    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];          // [N, D]
        var bias = (Tensor)vars[1];       // [D]
        var weight = (Tensor)vars[2];     // [F, D]
        var selection = (Selection)vars[3];
        var u = x - bias;                 // [N, D]
        var latents = Latents(u, weight, selection.ComputeDType);   // [N, F]
        var (values, indices) = latents.topk(selection.K, dim: -1, largest: true, sorted: false);
        selection.TopKIndices = indices;
        selection.Dead = selection.DeadMask(new TopK(values, indices));
        ctx.save_for_backward([u, weight]);
        ctx.save_data("selection", selection);
        if (selection.AuxK is not int auxk) return [values];
        var (auxValues, auxIndices) = DeadTopK(latents, selection.Dead, auxk);
        selection.AuxKIndices = auxIndices;
        return [values, auxValues];
    }

    /// <summary>
    /// The reference's AuxK selection, <c>topk(latents · dead_mask, auxk)</c>, computed over the dead
    /// columns only. The reference fills the slots that positive dead latents do not take with
    /// masked zeros; here they are value 0 at latent 0. After the ReLU both contribute nothing to
    /// the reconstruction and get no gradient, so the loss and every gradient are the same, and
    /// the [N, F] TopK (a fifth of the step at x32) shrinks to [N, dead]. // [N, F] → [N, AuxK] ×2
    /// </summary>
    static (Tensor Values, Tensor Indices) DeadTopK(Tensor latents, Tensor dead, int auxk)
    {
        long n = latents.shape[0];
        var deadIndex = dead.nonzero().squeeze(1);                                   // [dead]
        long count = deadIndex.shape[0];
        var values = zeros([n, auxk], latents.dtype, latents.device);
        var indices = zeros([n, auxk], ScalarType.Int64, latents.device);
        if (count == 0) return (values, indices);
        int take = (int)Math.Min(auxk, count);
        var (top, at) = latents.index_select(1, deadIndex).topk(take, dim: -1, largest: true, sorted: false);
        values.narrow(1, 0, take).copy_(top.clamp_min(0));   // a negative dead value loses to the reference's masked zeros
        indices.narrow(1, 0, take).copy_(deadIndex.index_select(0, at.reshape(-1)).reshape(n, take));
        return (values, indices);
    }

    /// <summary>The pre-activations <c>u Wᵀ</c>, computed in <paramref name="dtype"/> and returned in float32. // [N, F]</summary>
    public static Tensor Latents(Tensor u, Tensor weight, ScalarType dtype) => dtype == ScalarType.Float32
        ? u.mm(weight.t())
        : u.to(dtype).mm(weight.to(dtype).t()).to(ScalarType.Float32);

    /// <inheritdoc />
    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> gradOutputs)
    {
        var saved = ctx.get_saved_variables();
        var u = saved[0];                 // [N, D]
        var weight = saved[1];            // [F, D]
        var selection = (Selection)ctx.get_data("selection");
        var indices = selection.TopKIndices!;
        var grads = gradOutputs[0];
        if (selection.AuxKIndices is not null && gradOutputs.Count > 1 && gradOutputs[1] is { IsInvalid: false } auxGrad)
        {
            indices = cat([indices, selection.AuxKIndices], 1);   // [N, K + AuxK]
            grads = cat([grads, auxGrad], 1);
        }
        long n = u.shape[0], f = weight.shape[0];
        var latentIndex = indices.reshape(-1);
        var flatGrads = grads.reshape(-1);
        var rows = arange(n, dtype: ScalarType.Int64, device: u.device).repeat_interleave(indices.shape[1]);
        // Entries the ReLU stopped (AuxK slots of live latents, most of them early on) carry exact zeros.
        var live = flatGrads.ne(0);
        latentIndex = latentIndex.masked_select(live);
        flatGrads = flatGrads.masked_select(live);
        rows = rows.masked_select(live);
        // d weight[j] = Σ_n g[n, j] u[n] over the selected (n, j) only.
        using var g = sparse_coo_tensor(stack([latentIndex, rows]), flatGrads, [f, n]);
        var gradWeight = g.mm(u);                                                      // [F, D]
        // d bias = −Σ_n Σ_j g[n, j] W[j] = −(Σ_n g[n, ·]) W.
        var perLatent = zeros(f, grads.dtype, grads.device).index_add_(0, latentIndex, flatGrads, 1);
        var gradBias = perLatent.unsqueeze(0).mm(weight).squeeze(0).neg();                // [D]
        return [null!, gradBias, gradWeight, null!];
    }
}

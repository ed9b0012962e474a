using static TorchSharp.torch;

namespace Mlsae.Autoencoder;

/// <summary>
/// The encoder and its TopK (and AuxK) selection as one autograd function, so the backward pass
/// touches only the selected latents: the encoder's weight gradient sums over the N·(K + AuxK)
/// selected entries (<see cref="SparseWeightGradient"/>) instead of the dense <c>[F, N]·[N, D]</c>
/// matmul autograd would run, and the bias gradient is one <c>[F]·[F, D]</c> product. The forward
/// runs in row chunks (<see cref="EncoderPass"/>) and never holds the <c>[N, F]</c> pre-activations.
/// The values it returns are the raw (pre-ReLU) TopK values, those of <c>topk((x − b) Wᵀ)</c> (in
/// half precision: re-scored in float32). The standardized input is a constant (no gradient), as in training.
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
        /// <summary>The mask <see cref="DeadMask"/> will return, when it is known before the TopK
        /// (evaluation, and training in the consistent order: the mask the step began with): AuxK is
        /// then selected in the same pass as the TopK. Null, or a mask that turns out different: a
        /// second pass over the dead columns after the TopK. // [F] bool</summary>
        public Tensor? ExpectedDeadMask { get; init; }
        /// <summary>Dtype of the encoder matmul (float32, or bfloat16/float16 by explicit casting; the weights stay float32).</summary>
        public ScalarType ComputeDType { get; init; } = ScalarType.Float32;
        /// <summary>Rows per chunk; null: from <see cref="EncoderPass.ChunkBytes"/>.</summary>
        public int? ChunkRows { get; init; }
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
        bool cpu = CpuKernels(u);
        var expected = selection.AuxK is null ? null : selection.ExpectedDeadMask;
        var pass = EncoderPass.Run(u, weight, selection.K, selection.AuxK, expected, selection.ComputeDType, selection.ChunkRows, cpu);
        selection.TopKIndices = pass.Indices;
        selection.Dead = selection.DeadMask(new TopK(pass.Values, pass.Indices));
        ctx.save_for_backward([u, weight]);
        ctx.save_data("selection", selection);
        if (selection.AuxK is not int auxk) return [pass.Values];
        bool sameMask = pass.AuxValues is not null && expected!.equal(selection.Dead).all().item<bool>();
        var (auxValues, auxIndices) = sameMask
            ? (pass.AuxValues!, pass.AuxIndices!)
            : EncoderPass.DeadColumns(u, weight, selection.Dead, auxk, selection.ComputeDType, selection.ChunkRows, cpu);
        selection.AuxKIndices = auxIndices;
        return [pass.Values, auxValues];
    }

    /// <summary>The hand-written selection and gradient kernels run on CPU tensors; other devices use torch ops.</summary>
    static bool CpuKernels(Tensor t) => t.device_type == TorchSharp.DeviceType.CPU;

    /// <summary>The pre-activations <c>u Wᵀ</c>, computed in <paramref name="dtype"/> and returned in
    /// float32 (the dense kernels' straight path). // [N, F]</summary>
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
        var slots = new List<(Tensor, Tensor)> { (selection.TopKIndices!, gradOutputs[0]) };
        if (selection.AuxKIndices is not null && gradOutputs.Count > 1 && gradOutputs[1] is { IsInvalid: false } auxGrad)
            slots.Add((selection.AuxKIndices, auxGrad));
        // d weight[j] = Σ_n g[n, j] u[n] over the selected (n, j) only; entries the ReLU stopped
        // (AuxK slots of live latents, most of them early on) carry exact zeros and are skipped.
        var (gradWeight, perLatent) = SparseWeightGradient.Compute(u, slots, weight.shape[0], CpuKernels(u));   // [F, D], [F]
        // d bias = −Σ_n Σ_j g[n, j] W[j] = −(Σ_n g[n, ·]) W.
        var gradBias = perLatent.unsqueeze(0).mm(weight).squeeze(0).neg();             // [D]
        return [null!, gradBias, gradWeight, null!];
    }
}

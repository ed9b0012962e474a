using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Coders;

/// <summary>
/// A sparse autoencoder over the residual stream <c>[L, B, T, D]</c>: what training, training
/// states, checkpoints, evaluation and the analyses need of it. The MLSAE
/// (<see cref="Autoencoder.MlsaeAutoencoder"/>) is one; a per-layer SAE or a crosscoder is another
/// class implementing this, trained by the same trainer. Its settings
/// (<see cref="SparseCoderSettings"/>) are fixed when it is built or loaded.
/// </summary>
public interface ISparseCoder : IDisposable
{
    /// <summary>The kind, as a checkpoint's <c>config.json</c> names it under <c>kind</c>
    /// (<c>"mlsae"</c> for the MLSAE, whose config has no <c>kind</c>); see <see cref="SparseCoderRegistry"/>.</summary>
    string Kind { get; }
    /// <summary>Inputs per vector: the model's d_model (D).</summary>
    int NInputs { get; }
    /// <summary>Latents (F).</summary>
    int NLatents { get; }
    /// <summary>Latents kept per vector by TopK (K).</summary>
    int K { get; }
    /// <summary>Dead latents used by the AuxK loss per vector; null when AuxK is off.</summary>
    int? AuxK { get; }
    /// <summary>The number of layers L the inputs must have; null: any (the MLSAE treats every
    /// layer's vector alike).</summary>
    int? Layers { get; }
    /// <summary>A latent fires when its TopK value exceeds this (L0 and dead latents use it).</summary>
    double DeadThreshold { get; }
    /// <summary>The device of the parameters.</summary>
    Device Device { get; }
    /// <summary>The settings it was built with.</summary>
    SparseCoderSettings Settings { get; }

    /// <summary>The trainable parameters, in the optimizer's order (Adam's moments are indexed by it).</summary>
    IReadOnlyList<Parameter> Parameters { get; }
    /// <summary><see cref="Parameters"/> with the names a training state file stores them under, in the same order.</summary>
    IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters { get; }
    /// <summary>The state besides the parameters that a training state saves and restores in place
    /// (the MLSAE: its dead-latent counters), with the names the file stores them under.</summary>
    IReadOnlyList<(string Name, Tensor Buffer)> NamedBuffers { get; }

    /// <summary>
    /// Encodes and decodes <paramref name="inputs"/> // [L, B, T, D]. With
    /// <paramref name="training"/> the dead-latent counters advance; evaluation leaves every state
    /// untouched. Fails when <see cref="Layers"/> is set and the inputs have another L.
    /// </summary>
    SparseCoderOutput Forward(Tensor inputs, bool training);

    /// <summary>The training loss of one forward pass of <paramref name="inputs"/> // [L, B, T, D].</summary>
    SparseCoderLoss Loss(Tensor inputs, SparseCoderOutput output);

    /// <summary>Initializes what depends on the data from the first training batch // [L, B, T, D]
    /// (the MLSAE: the pre-encoder bias at the geometric median).</summary>
    void InitializeFromFirstBatch(Tensor inputs);

    /// <summary>Runs after every backward pass (Lightning's <c>on_after_backward</c>). Under the
    /// reference's quirks the MLSAE renormalizes its decoder and projects the gradient here; in the
    /// consistent order nothing happens per micro-batch.</summary>
    void AfterBackward();

    /// <summary>Runs once per optimizer step, after the gradients of all its micro-batches (and of
    /// every data-parallel rank) are summed and before the optimizer (the MLSAE, consistent order:
    /// the decoder gradient's projection).</summary>
    void BeforeStep();

    /// <summary>Runs right after each optimizer step (the MLSAE, consistent order: decoder
    /// renormalization; the dead-latent counters take the union of the step's firings from
    /// <see cref="StepTally"/>).</summary>
    void AfterStep();

    /// <summary>What training forward calls recorded during the step under way, for
    /// <see cref="AfterStep"/>; data-parallel ranks sum it (in place) before then. Null when the
    /// coder keeps no such tally (e.g. under the reference's quirks, which update per call). // int64</summary>
    Tensor? StepTally { get; }

    /// <summary>The dead-latent mask under the current counters, without updating them. // [F] bool</summary>
    Tensor DeadMask();

    /// <summary>Writes its checkpoint into <paramref name="folder"/> (a <c>config.json</c> that
    /// <see cref="SparseCoderRegistry"/> reads back, and its weights).</summary>
    void Save(string folder);
}

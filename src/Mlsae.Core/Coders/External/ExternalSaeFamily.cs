using Mlsae.Autoencoder;
using Mlsae.Interop;
using Mlsae.Metrics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Coders.External;

/// <summary>
/// SAEs published in SAELens or sparsify format (<see cref="ExternalSaeSet"/>), one per layer, as a
/// per-layer baseline for <c>eval</c> and the analyses: SAE l reads row l of the residual stream and
/// computes exactly as its own tool does (<see cref="ExternalTopKSae.Forward"/>: no standardization,
/// encoder bias, decoder bias), and the family numbers its latents across the layers as a per-layer
/// family does (latent <c>offset(l) + f</c> is latent f of layer l's SAE). They are read, never
/// trained here: no parameters, no dead-latent state, and no AuxK term (their tools train their own).
/// A latent fires when its activation is positive (<see cref="DeadThreshold"/> 0).
/// </summary>
public sealed class ExternalSaeFamily : ISparseCoder
{
    /// <summary>This coder's <see cref="ISparseCoder.Kind"/>.</summary>
    public const string KindName = "external";

    readonly ExternalSaeSet set;
    readonly long[] offsets;

    /// <summary>Wraps <paramref name="set"/> (owned from now on); its SAEs must share D and K.</summary>
    public ExternalSaeFamily(ExternalSaeSet set)
    {
        this.set = set;
        ModelLayers = set.Layers;
        Saes = ModelLayers.Select(l => set.ByLayer[l]).ToList();
        var first = Saes[0].Config;
        foreach (var (sae, layer) in Saes.Zip(ModelLayers))
        {
            if (sae.Config.NInputs != first.NInputs)
                throw new MlsaeException($"{set.Source}: the SAE on layer {layer} reads d_in {sae.Config.NInputs}, the one on layer {ModelLayers[0]} {first.NInputs}");
            if (sae.Config.K != first.K)
                throw new MlsaeException($"{set.Source}: the SAE on layer {layer} keeps k {sae.Config.K}, the one on layer {ModelLayers[0]} {first.K}; one family needs one k");
        }
        offsets = new long[Saes.Count + 1];
        for (int l = 0; l < Saes.Count; l++) offsets[l + 1] = offsets[l] + Saes[l].Config.NLatents;
        if (offsets[^1] > int.MaxValue) throw new MlsaeException($"{set.Source}: {offsets[^1]} latents in all are more than one index can hold");
    }

    /// <summary>The model layer of each SAE, ascending: the inputs' rows.</summary>
    public IReadOnlyList<int> ModelLayers { get; }
    /// <summary>The SAEs, one per row.</summary>
    public IReadOnlyList<ExternalTopKSae> Saes { get; }
    /// <summary>Where they were read from (a folder or a hub id) and the hub commit, if any.</summary>
    public string Source => set.Revision is null ? set.Source : $"{set.Source}@{set.Revision}";
    /// <summary>The model the SAEs' files name, if they do.</summary>
    public string? ModelName => Saes.Select(s => s.Config.ModelName).FirstOrDefault(n => n is not null);

    /// <inheritdoc />
    public string Kind => KindName;
    /// <inheritdoc />
    public int NInputs => Saes[0].Config.NInputs;
    /// <summary>Every SAE's latents, numbered across the family.</summary>
    public int NLatents => (int)offsets[^1];
    /// <inheritdoc />
    public int K => Saes[0].Config.K;
    /// <summary>Null: no AuxK (the SAEs are not trained here).</summary>
    public int? AuxK => null;
    /// <summary>L: one SAE per row.</summary>
    public int? Layers => Saes.Count;
    /// <summary>0: a latent fires when its activation is positive, as their tools count L0.</summary>
    public double DeadThreshold => 0;
    /// <inheritdoc />
    public Device Device => Saes[0].Device;
    /// <summary>The defaults: nothing of this tool's training settings applies.</summary>
    public SparseCoderSettings Settings { get; } = new();
    /// <summary>False: each SAE codes its layer's vectors.</summary>
    public bool CodesPerToken => false;
    /// <summary>None: read-only.</summary>
    public IReadOnlyList<Parameter> Parameters => [];
    /// <summary>None.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters => [];
    /// <summary>None.</summary>
    public IReadOnlyList<(string Name, Tensor Buffer)> NamedBuffers => [];
    /// <summary>Null: no dead-latent state.</summary>
    public Tensor? StepTally => null;

    /// <summary>Runs SAE l on row l of <paramref name="inputs"/> // [L, B, T, D] and stacks the outputs.
    /// <paramref name="training"/> is refused: these SAEs are not trained here.</summary>
    public SparseCoderOutput Forward(Tensor inputs, bool training)
    {
        if (training) throw NotTrained();
        if (inputs.dim() != 4 || inputs.shape[0] != Saes.Count || inputs.shape[^1] != NInputs)
            throw new MlsaeException($"external SAEs: the SAEs on layers [{string.Join(", ", ModelLayers)}] read [{Saes.Count}, B, T, {NInputs}] inputs, got {Tensors.Shapes.Format(inputs.shape)}");
        using var scope = NewDisposeScope();
        var values = new List<Tensor>();
        var indices = new List<Tensor>();
        var raw = new List<Tensor>();
        var recons = new List<Tensor>();
        for (int l = 0; l < Saes.Count; l++)
        {
            using var output = Saes[l].Forward(inputs[l]);                           // [B, T, K], [B, T, D]
            values.Add(output.TopK.Values.unsqueeze(0));
            indices.Add((output.TopK.Indices + offsets[l]).unsqueeze(0));
            raw.Add(output.TopKRaw.unsqueeze(0));
            recons.Add(output.Recons.unsqueeze(0));
        }
        var result = new SparseCoderOutput(new TopK(cat(values, 0), cat(indices, 0)), cat(raw, 0), cat(recons, 0).to(inputs.dtype),
            null, null, null, zeros([], ScalarType.Float32, inputs.device));
        result.TopK.Values.MoveToOuterDisposeScope();
        result.TopK.Indices.MoveToOuterDisposeScope();
        result.TopKRaw.MoveToOuterDisposeScope();
        result.Recons.MoveToOuterDisposeScope();
        result.Dead.MoveToOuterDisposeScope();
        return result;
    }

    /// <summary>FVU per layer and its mean, as for the other kinds; no AuxK term.</summary>
    public SparseCoderLoss Loss(Tensor inputs, SparseCoderOutput output)
    {
        var fvu = Fvu.PerLayer(inputs, output.Recons);                              // [L]
        var mean = fvu.mean();
        return new SparseCoderLoss(mean.alias(), mean, fvu, zeros([], mean.dtype, mean.device));
    }

    /// <summary>Refused: external SAEs are not trained here.</summary>
    public void InitializeFromFirstBatch(Tensor inputs) => throw NotTrained();
    /// <inheritdoc />
    public void AfterBackward() { }
    /// <inheritdoc />
    public void BeforeStep() { }
    /// <inheritdoc />
    public void AfterStep() { }

    /// <summary>No latent is dead: there are no counters. // [F] bool</summary>
    public Tensor DeadMask() => zeros(NLatents, ScalarType.Bool, Device);

    /// <summary>Layer <paramref name="layer"/>'s SAE decoder (raw residual basis, not standardized).</summary>
    public LayerDecoder DecoderAt(int layer)
    {
        if (layer < 0 || layer >= Saes.Count) throw new ArgumentOutOfRangeException(nameof(layer), $"layer position {layer} of {Saes.Count}");
        return new LayerDecoder(offsets[layer], Saes[layer].Decoder.detach(), Standardized: false);
    }

    /// <summary>Refused: they stay in their own format (<see cref="SaeLensFormat"/>, <see cref="SparsifyFormat"/> write them).</summary>
    public void Save(string folder) => throw NotTrained();

    MlsaeException NotTrained() => new($"{set.Source}: external (SAELens/sparsify) SAEs are read for eval and the analyses; training or saving them as this tool's checkpoint is not supported");

    /// <inheritdoc />
    public void Dispose() => set.Dispose();
}

using Mlsae.Autoencoder;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mlsae.Coders.PerLayer;

/// <summary>
/// One TopK SAE per chosen layer, each trained only on its layer's vectors, all with the same
/// architecture and settings: SAE l is an <see cref="MlsaeAutoencoder"/> built as
/// <c>train --kind mlsae --layers l</c> with the same seed would build it, gets only its layer's
/// <c>[1, B, T, D]</c> slice, counts its dead latents over its own B·T tokens, and is driven by its own
/// loss alone (the family's loss is the sum of the SAEs' losses), so each SAE of the family ends bit
/// for bit where a single-layer MLSAE on its layer ends. The family's latents are numbered across
/// its SAEs: latent <c>l·F + f</c> is latent f of the SAE at position l, so the analyses see every
/// latent at its one layer.
/// </summary>
public sealed class PerLayerFamily : ISparseCoder
{
    /// <summary>The per-layer family's <see cref="ISparseCoder.Kind"/>, as its checkpoint config names it.</summary>
    public const string KindName = "per-layer";

    readonly Tensor stepTally;                                                     // [L · (F + 2)] int64

    /// <summary>The model layer of each SAE, in the order of the inputs' rows.</summary>
    public IReadOnlyList<int> ModelLayers { get; }
    /// <summary>The SAEs, one per row of the inputs.</summary>
    public IReadOnlyList<MlsaeAutoencoder> Saes { get; }

    /// <summary>A fresh family: every SAE initialized as <see cref="MlsaeAutoencoder.Create"/> with the same <paramref name="seed"/>.</summary>
    public static PerLayerFamily Create(MlsaeConfig config, SparseCoderSettings settings, long seed, IReadOnlyList<int> layers, Device? device = null)
    {
        var saes = new List<MlsaeAutoencoder>();
        try
        {
            foreach (var _ in layers) saes.Add(MlsaeAutoencoder.Create(config, settings, seed, device));
            return new PerLayerFamily(layers, saes);
        }
        catch
        {
            foreach (var sae in saes) sae.Dispose();
            throw;
        }
    }

    /// <summary>A family of existing SAEs (owned from now on), one per model layer in <paramref name="layers"/>;
    /// they must share one config and one set of settings.</summary>
    public PerLayerFamily(IReadOnlyList<int> layers, IReadOnlyList<MlsaeAutoencoder> saes)
    {
        if (layers.Count == 0) throw new MlsaeException("per-layer: no layers");
        if (layers.Count != saes.Count) throw new ArgumentException($"{layers.Count} layers but {saes.Count} SAEs", nameof(saes));
        if (layers.Distinct().Count() != layers.Count) throw new MlsaeException($"per-layer: layers [{string.Join(", ", layers)}] repeat a layer");
        for (int l = 1; l < saes.Count; l++)
        {
            if (saes[l].Config != saes[0].Config)
                throw new MlsaeException($"per-layer: the SAE of layer {layers[l]} ({saes[l].Config.ToJson().ReplaceLineEndings(" ")}) differs from layer {layers[0]}'s; a family shares one architecture");
            if (saes[l].Settings != saes[0].Settings) throw new ArgumentException("the SAEs of a family share one set of settings", nameof(saes));
        }
        ModelLayers = layers.ToArray();
        Saes = saes.ToArray();
        long width = saes[0].NLatents + 2L;
        stepTally = zeros(width * saes.Count, ScalarType.Int64, saes[0].Device).DetachFromDisposeScope();
        for (int l = 0; l < saes.Count; l++) saes[l].DeadLatents.UseStepTally(stepTally.narrow(0, l * width, width));
        NamedParameters = saes.SelectMany((sae, l) => sae.NamedParameters.Select(p => (Prefix(l) + p.Name, p.Parameter))).ToList();
        Parameters = NamedParameters.Select(p => p.Parameter).ToList();
        NamedBuffers = saes.SelectMany((sae, l) => sae.NamedBuffers.Select(b => (Prefix(l) + b.Name, b.Buffer))).ToList();
    }

    /// <summary>The training-state prefix of SAE <paramref name="l"/>'s tensors: <c>layer_{model layer}.</c></summary>
    string Prefix(int l) => $"layer_{ModelLayers[l]}.";

    /// <inheritdoc />
    public string Kind => KindName;
    /// <inheritdoc />
    public int NInputs => Saes[0].NInputs;
    /// <summary>L·F: every SAE's latents, numbered across the family.</summary>
    public int NLatents => Saes.Count * Saes[0].NLatents;
    /// <summary>Latents of each SAE (F).</summary>
    public int LatentsPerSae => Saes[0].NLatents;
    /// <inheritdoc />
    public int K => Saes[0].K;
    /// <inheritdoc />
    public int? AuxK => Saes[0].AuxK;
    /// <summary>L: one SAE per row.</summary>
    public int? Layers => Saes.Count;
    /// <inheritdoc />
    public double DeadThreshold => Saes[0].DeadThreshold;
    /// <inheritdoc />
    public Device Device => Saes[0].Device;
    /// <inheritdoc />
    public SparseCoderSettings Settings => Saes[0].Settings;
    /// <summary>False: each SAE codes its layer's vectors.</summary>
    public bool CodesPerToken => false;
    /// <summary>Every SAE's parameters in order (SAE 0's encoder, decoder, bias, then SAE 1's, …).</summary>
    public IReadOnlyList<Parameter> Parameters { get; }
    /// <summary>Every SAE's parameters under <c>layer_{model layer}.encoder</c> etc.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> NamedParameters { get; }
    /// <summary>Every SAE's dead-latent counters under <c>layer_{model layer}.last_nonzero</c> etc.</summary>
    public IReadOnlyList<(string Name, Tensor Buffer)> NamedBuffers { get; }

    /// <summary>Runs SAE l on row l of <paramref name="inputs"/> // [L, B, T, D] and stacks the outputs,
    /// latents renumbered across the family.</summary>
    public SparseCoderOutput Forward(Tensor inputs, bool training)
    {
        CheckLayers(inputs);
        var outputs = new List<SparseCoderOutput>();
        try
        {
            for (int l = 0; l < Saes.Count; l++) outputs.Add(Saes[l].Forward(inputs.narrow(0, l, 1), training));
            TopK Stack(Func<SparseCoderOutput, TopK> of) => new(
                cat(outputs.Select(o => of(o).Values).ToList(), 0),
                cat(outputs.Select((o, l) => of(o).Indices + (long)l * LatentsPerSae).ToList(), 0));
            bool auxk = outputs[0].AuxK is not null;
            return new SparseCoderOutput(Stack(o => o.TopK), cat(outputs.Select(o => o.TopKRaw).ToList(), 0), cat(outputs.Select(o => o.Recons).ToList(), 0),
                auxk ? Stack(o => o.AuxK!) : null,
                auxk ? cat(outputs.Select(o => o.AuxKRecons!).ToList(), 0) : null,
                auxk ? cat(outputs.Select(o => o.AuxKError!).ToList(), 0) : null,
                stack(outputs.Select(o => o.Dead).ToList()).mean());
        }
        finally
        {
            foreach (var o in outputs) o.Dispose();   // the stacked tensors (and the graph) keep what they need
        }
    }

    void CheckLayers(Tensor inputs)
    {
        if (inputs.dim() != 4 || inputs.shape[0] != Saes.Count || inputs.shape[^1] != NInputs)
            throw new MlsaeException($"per-layer: the family of layers [{string.Join(", ", ModelLayers)}] reads [{Saes.Count}, B, T, {NInputs}] inputs, got {Tensors.Shapes.Format(inputs.shape)}");
    }

    /// <summary>Each SAE's own loss on its row (<see cref="MlsaeAutoencoder.Loss"/>, computed on exactly
    /// the tensors it computes alone), summed into <see cref="SparseCoderLoss.Total"/>; FVU per layer and
    /// its mean as for the MLSAE; AuxK the sum of the SAEs'.</summary>
    public SparseCoderLoss Loss(Tensor inputs, SparseCoderOutput output)
    {
        CheckLayers(inputs);
        Tensor? total = null, auxk = null;
        var fvu = new List<Tensor>();
        for (int l = 0; l < Saes.Count; l++)
        {
            using var row = Row(output, l);
            using var loss = Saes[l].Loss(inputs.narrow(0, l, 1), row);
            total = total is null ? loss.Total.alias() : total + loss.Total;
            auxk = auxk is null ? loss.AuxK.alias() : auxk + loss.AuxK;
            fvu.Add(loss.Fvu.alias());
        }
        var perLayer = cat(fvu, 0);                                                   // [L]
        foreach (var t in fvu) t.Dispose();
        return new SparseCoderLoss(total!, perLayer.mean(), perLayer, auxk!);
    }

    /// <summary>Row <paramref name="l"/> of a family output as SAE l's own output (views; what its loss reads).</summary>
    SparseCoderOutput Row(SparseCoderOutput output, int l)
    {
        TopK? Narrow(TopK? t) => t is null ? null : new TopK(t.Values.narrow(0, l, 1), t.Indices.narrow(0, l, 1) - (long)l * LatentsPerSae);
        return new SparseCoderOutput(Narrow(output.TopK)!, output.TopKRaw.narrow(0, l, 1), output.Recons.narrow(0, l, 1), Narrow(output.AuxK),
            output.AuxKRecons?.narrow(0, l, 1), output.AuxKError?.narrow(0, l, 1), output.Dead.alias());
    }

    /// <summary>Each SAE's bias from its own row of the first batch. // [L, B, T, D]</summary>
    public void InitializeFromFirstBatch(Tensor inputs)
    {
        CheckLayers(inputs);
        for (int l = 0; l < Saes.Count; l++) Saes[l].InitializeFromFirstBatch(inputs.narrow(0, l, 1));
    }

    /// <inheritdoc />
    public void AfterBackward()
    {
        foreach (var sae in Saes) sae.AfterBackward();
    }

    /// <inheritdoc />
    public void BeforeStep()
    {
        foreach (var sae in Saes) sae.BeforeStep();
    }

    /// <inheritdoc />
    public void AfterStep()
    {
        foreach (var sae in Saes) sae.AfterStep();
    }

    /// <summary>Every SAE's tally in one tensor (each SAE's <c>[F + 2]</c> is a view of its part), so
    /// ranks sum the family at once; null under the reference's quirks. // [L · (F + 2)] int64</summary>
    public Tensor? StepTally => Settings.ReferenceQuirks ? null : stepTally;

    /// <summary>The SAEs' masks, in the family's numbering. // [L·F] bool</summary>
    public Tensor DeadMask()
    {
        using var scope = NewDisposeScope();
        return cat(Saes.Select(s => s.DeadMask()).ToList(), 0).MoveToOuterDisposeScope();
    }

    /// <summary>SAE <paramref name="layer"/>'s decoder: latents <c>layer·F …</c>.</summary>
    public LayerDecoder DecoderAt(int layer)
    {
        if (layer < 0 || layer >= Saes.Count) throw new ArgumentOutOfRangeException(nameof(layer), $"layer position {layer} of {Saes.Count}");
        return new LayerDecoder((long)layer * LatentsPerSae, Saes[layer].Decoder.detach(), Saes[layer].Config.Standardize);
    }

    /// <summary>Writes <see cref="PerLayerCheckpoint"/>: a <c>config.json</c> naming the kind and layers,
    /// and each SAE's reference-format checkpoint in <c>layer-{model layer}/</c>.</summary>
    public void Save(string folder) => PerLayerCheckpoint.Save(this, folder);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var sae in Saes) sae.Dispose();
        stepTally.Dispose();
    }
}

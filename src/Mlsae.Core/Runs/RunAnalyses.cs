using Mlsae.Analysis;
using Mlsae.Coders;
using Mlsae.Data;
using Mlsae.Embedded;
using Mlsae.Models;
using static TorchSharp.torch;

namespace Mlsae.Runs;

/// <summary>
/// What a finished run writes beside its checkpoint from the validation batches: the latent
/// distributions over layers and the variance ratios (accumulated from the same coder outputs the
/// final validation computes, so the batches are encoded once), and one prompt's latents by layer —
/// the aggregate and the single-token view the README's first command shows — and the validation
/// batches' max-activating examples (<see cref="ExamplesTop"/> per latent and layer, per latent for a
/// crosscoder, from the same outputs), so that <c>mlsae serve</c> shows examples for a fresh run.
/// A crosscoder's dists also carry its decoder-norm share per layer. Figures and the HTML
/// report are drawn from these files by <c>Mlsae.Reports</c>. Outputs are observed in the order of
/// <paramref name="validation"/>, whose tokens the examples keep.
/// </summary>
public sealed class RunAnalyses(int layers, ISparseCoder coder, IReadOnlyList<TokenBatch> validation)
{
    /// <summary>Examples kept per (latent, layer): few, since they come from the validation batches alone.</summary>
    public const int ExamplesTop = 8;
    /// <summary>Context tokens each side of an example.</summary>
    public const int ExamplesWindow = 4;

    readonly LayerDists dists = new(layers, coder.NLatents);
    readonly LayerVariances variances = new(layers, coder.NLatents);
    readonly LayerSpan span = new(layers, coder.DeadThreshold);
    readonly MaxActivatingExamples examples = MaxActivatingExamples.For(coder, layers, ExamplesTop, ExamplesWindow);
    int observed;

    /// <summary>Adds the coder output of the next validation batch.</summary>
    public void Observe(SparseCoderOutput output)
    {
        if (observed >= validation.Count) throw new InvalidOperationException($"RunAnalyses: more outputs than the {validation.Count} validation batches");
        var batch = validation[observed++];
        dists.Add(output.TopKRaw, output.TopK.Indices);
        variances.Add(output.TopKRaw, output.TopK.Indices);
        span.Add(output.TopKRaw, output.TopK.Indices);
        examples.Add(batch.Sequences, output, batch.Indices);
    }

    /// <summary>Encodes the validation batches for the analyses alone (when their metrics are already known).</summary>
    public void Encode(ModelSession model, ISparseCoder sae)
    {
        foreach (var batch in validation)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var output = sae.Forward(model.Stream.Forward(model.Stream.Tokens(batch.Sequences)), training: false);
            Observe(output);
        }
    }

    /// <summary>Writes dists, variances and the prompt analysis into the run folder.</summary>
    public void Write(Run run, ModelSession model, ISparseCoder sae, IRunObserver observer)
    {
        if (observed != validation.Count) throw new InvalidOperationException($"RunAnalyses: {observed} of {validation.Count} validation batches observed");
        var options = run.Options;
        var meta = new Dictionary<string, string>
        {
            ["model"] = options.Model.Name, ["sae"] = run.Folder, ["layers"] = string.Join(",", model.Layers), ["data"] = options.Data.ValData ?? options.Data.Source + " (held out)",
            ["max_length"] = options.Data.MaxLength.ToString(), ["batch_size"] = options.Data.BatchSize.ToString(), ["shard"] = "0/1",
        };
        foreach (var (k, v) in CoderMetadata.Of(sae)) meta[k] = v;     // so `dists layer-std` can tell runs apart
        dists.DecoderShare = (sae as Coders.Crosscoder.AcausalCrosscoder)?.DecoderNormShare();
        var distsPath = run.PathOf(Run.DistsFile);
        observer.Notice(DistsFiles.Save(dists, meta, distsPath).Describe(distsPath, figures: true));
        (VarianceSummary.From(variances) with
        {
            BatchSize = options.Data.BatchSize, MaxLength = options.Data.MaxLength, SingleLayerFraction = span.SingleLayerFraction, ActivePairs = span.ActivePairs,
        }).Save(run.PathOf(Run.VariancesFile));
        WriteExamples(run, model, sae, meta);
        if (!model.HasTokenizer) return;
        // The single-prompt view beside the aggregate one: a fixed sentence for the embedded model,
        // else the start of the first validation sequence.
        var prompt = options.Model.Name == EmbeddedModel.Name
            ? EmbeddedModel.Prompt
            : model.Tokenizer.Decode(validation[0].Sequences[0].Take(64).Select(i => (int)i), skipSpecialTokens: true);
        if (prompt.Trim().Length > 0)
            PromptAnalysis.Compute(sae, model.Stream, model.Tokenizer, prompt, model.Name, run.Folder).Save(run.PathOf(Run.PromptFile));
    }

    /// <summary>Writes the observed batches' max-activating examples to examples.db.</summary>
    void WriteExamples(Run run, ModelSession model, ISparseCoder sae, Dictionary<string, string> meta)
    {
        var tokenizer = model.HasTokenizer ? model.Tokenizer : null;
        ExamplesDatabase.Write(run.PathOf(Run.ExamplesFile), examples.All(),
            id => tokenizer?.Decode([(int)id]) ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            id => tokenizer?.IdToToken((int)id) ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ExamplesDatabase.LayersOf(sae, model.Layers), new Dictionary<string, string>(meta) { ["top"] = ExamplesTop.ToString(), ["window"] = ExamplesWindow.ToString() });
    }
}

using Mlsae.Analysis;
using Mlsae.Coders;
using Mlsae.Evaluation;
using Mlsae.Explorer;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Tokenization;

namespace Mlsae.Serve;

/// <summary>
/// What the explorer serves, loaded once at start-up: the model and its layers, the sparse coder
/// (only ever run with <c>training: false</c>, so its dead-latent state is never touched), the
/// tokenizer when there is one, and the optional examples database, dists and run folder. Requests
/// read these and never name a file.
/// </summary>
public sealed class Explorer : IDisposable
{
    /// <summary>Top logits per position, and increases/decreases per position.</summary>
    public const int TopLogits = 16;

    /// <summary>The model, its layers and special tokens.</summary>
    public required ModelSession Model { get; init; }
    /// <summary>The sparse coder.</summary>
    public required ISparseCoder Sae { get; init; }
    /// <summary>Where the sparse coder came from, as given.</summary>
    public required string SaeName { get; init; }
    /// <summary>The tokenizer, or null: then only <c>input_ids</c> prompts are accepted.</summary>
    public Tokenizer? Tokenizer { get; init; }
    /// <summary>The tuned lens the model's stream applies (source and revision), or null.</summary>
    public string? Lens => (Model.Stream.Hook as Mlsae.Lens.TunedLensHook)?.Lens.Reference.ToString();
    /// <summary>The examples database, or null.</summary>
    public ExamplesQueries? Examples { get; init; }
    /// <summary>The latents' distributions over layers, or null.</summary>
    public LatentCatalog? Catalog { get; init; }
    /// <summary>The run folder's overview, or null for a bare checkpoint.</summary>
    public RunOverview? Run { get; init; }

    readonly Lazy<Dictionary<int, string>> topTokens;
    readonly Lazy<double[,]?> decoderShare;

    /// <summary>A new explorer (the caller sets the fields).</summary>
    public Explorer()
    {
        topTokens = new(() => Examples?.TopTokens() ?? []);
        decoderShare = new(() => (Sae as Coders.Crosscoder.AcausalCrosscoder)?.DecoderNormShare());
    }

    /// <summary>A crosscoder's decoder-norm share of each latent per layer, read once; null for the other kinds. // [L, F]</summary>
    public double[,]? DecoderShare => decoderShare.Value;

    /// <summary>Per latent, its top stored token's text (empty without examples).</summary>
    public IReadOnlyDictionary<int, string> TopTokens => topTokens.Value;

    /// <summary>A token's text: decoded on its own, or its id without a tokenizer.</summary>
    public string Text(long id) => Tokenizer?.Decode([(int)id]) ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        Sae.Dispose();
    }
}

using Mlsae.Autoencoder;
using Mlsae.Data;
using Mlsae.Models;
using Mlsae.Runs;
using static TorchSharp.torch;

namespace Mlsae.Analysis;

/// <summary>
/// An open analysis: the SAE (null for model-only analyses), the model it reads, and this shard's
/// batches of the data, up to a token budget. <see cref="Encode"/> is the one loop that streams
/// batches through the model and the SAE for every data-reading analysis.
/// </summary>
public sealed class AnalysisSession : IDisposable
{
    /// <summary>The SAE, or null.</summary>
    public required Coders.ISparseCoder? Autoencoder { get; init; }
    /// <summary>The arguments of the run the SAE comes from, when it comes from a run folder.</summary>
    public Training.TrainOptions? Run { get; init; }
    /// <summary>Where the SAE was loaded from ("" without one), as outputs record it.</summary>
    public required string SaeName { get; init; }
    /// <summary>The model and its layers.</summary>
    public required ModelSession Model { get; init; }
    /// <summary>This shard's batches.</summary>
    public required BatchSource Data { get; init; }
    /// <summary>The data as named.</summary>
    public required string DataName { get; init; }
    /// <summary>Tokens to read (of this shard).</summary>
    public required long MaxTokens { get; init; }
    /// <summary>The ranks that share the batches (batch j goes to rank j mod N, as in training); null
    /// or one process: every batch is this process's.</summary>
    public Training.IDataParallel? Parallel { get; init; }

    /// <summary>The SAE; an error for a model-only session.</summary>
    public Coders.ISparseCoder Sae => Autoencoder ?? throw new InvalidOperationException("this analysis was opened without an SAE");
    /// <summary>The residual stream of the chosen layers.</summary>
    public ResidualStream Stream => Model.Stream;
    /// <summary>Batches the token budget allows (at least one).</summary>
    public long MaxBatches => Math.Max(1, (MaxTokens + (long)Data.BatchSize * Data.MaxLength - 1) / ((long)Data.BatchSize * Data.MaxLength));

    /// <summary>This shard's batches within the budget, each with its sequences' indices in the whole stream. // [B, T]</summary>
    public IEnumerable<TokenBatch> Batches() => Data.Batches().Take((int)Math.Min(int.MaxValue, MaxBatches));

    /// <summary>
    /// Streams the batches through the model and the SAE (no gradients, the SAE's state untouched),
    /// handing each batch and its output to <paramref name="use"/> inside the batch's dispose scope.
    /// Under several ranks only this rank's batches are encoded (every rank reads the whole stream:
    /// tokenizing is far cheaper than the model). Returns the tokens read by this rank.
    /// </summary>
    public long Encode(string title, IRunObserver observer, Action<TokenBatch, Coders.SparseCoderOutput> use) =>
        observer.Progress(title, MaxBatches * Data.BatchSize * Data.MaxLength, "tokens", done =>
        {
            long seen = 0, index = 0;
            foreach (var batch in Batches())
            {
                if (Parallel is { } ranks && !Training.DataParallel.Takes(ranks, index++)) continue;
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                using var output = Sae.Forward(Stream.Forward(Stream.Tokens(batch.Sequences)), training: false);
                use(batch, output);
                seen += batch.Tokens;
                done(seen);
            }
            return seen;
        });

    /// <summary>Metadata every output records (with <c>tuned_lens</c> when a lens applies).</summary>
    public Dictionary<string, string> Metadata()
    {
        var metadata = PlainMetadata();
        if (Stream.Hook is Lens.TunedLensHook hook) metadata["tuned_lens"] = System.Text.Json.JsonSerializer.Serialize(hook.Lens.Reference);
        return metadata;
    }

    Dictionary<string, string> PlainMetadata() => new()
    {
        ["model"] = Model.Name,
        ["sae"] = SaeName,
        ["layers"] = string.Join(",", Model.Layers),
        ["data"] = DataName,
        ["max_length"] = Data.MaxLength.ToString(),
        ["batch_size"] = Data.BatchSize.ToString(),
        ["shard"] = Data.Shard.ToString(),
    };

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        Autoencoder?.Dispose();
    }
}

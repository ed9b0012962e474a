using Mlsae.Hub;
using Mlsae.Tokenization;

namespace Mlsae.Data;

/// <summary>
/// The one way a data source becomes token batches: the reference's packing (or pre-tokenized
/// lines), this shard's sequences, grouped into batches of <see cref="BatchSize"/> (the last may
/// be smaller, as a DataLoader without drop_last), each batch carrying its sequences' indices and
/// the position after it. <see cref="Batches"/> opens at any saved position without reading what
/// came before (beyond one map batch), which is how <c>train --resume</c> continues a stream.
/// </summary>
public sealed class BatchSource
{
    readonly Lazy<Tokenizer> tokenizer;
    readonly Func<HubClient> hub;
    readonly Func<DataPosition?, IEnumerable<PackedSequence>>? stored;

    /// <summary>The source.</summary>
    public DataSource Source { get; }
    /// <summary>How documents are read.</summary>
    public DocumentOptions Documents { get; }
    /// <summary>Tokens per sequence asked for (the tokenizer's <c>model_max_length</c> may lower it, as the reference).</summary>
    public int MaxLength { get; }
    /// <summary>Sequences per batch.</summary>
    public int BatchSize { get; }
    /// <summary>The part of the stream kept.</summary>
    public Shard Shard { get; }
    /// <summary>What reading came across, summed over every stream opened.</summary>
    public DataReport Report { get; } = new();

    /// <summary>Creates the source; the tokenizer is loaded once, on first use (never for pre-tokenized input).</summary>
    public BatchSource(DataSource source, DocumentOptions documents, int maxLength, int batchSize, Shard shard, Func<Tokenizer> tokenizer, Func<HubClient> hub)
    {
        if (maxLength <= 0) throw new MlsaeException($"--max-length must be positive, got {maxLength}");
        if (batchSize <= 0) throw new MlsaeException($"--batch-size must be positive, got {batchSize}");
        Source = source;
        Documents = documents;
        MaxLength = maxLength;
        BatchSize = batchSize;
        Shard = shard;
        this.tokenizer = new Lazy<Tokenizer>(tokenizer);
        this.hub = hub;
    }

    /// <summary>A source whose sequences were packed once and stored (an activation cache):
    /// <paramref name="stored"/> opens them at a position, in the order and with the indices and
    /// positions they had in <paramref name="source"/>'s stream; only the grouping and the shard rule
    /// apply here.</summary>
    public BatchSource(DataSource source, DocumentOptions documents, int maxLength, int batchSize, Shard shard, Func<Tokenizer> tokenizer,
        Func<DataPosition?, IEnumerable<PackedSequence>> stored)
        : this(source, documents, maxLength, batchSize, shard, tokenizer, () => throw new InvalidOperationException("stored sequences read no hub"))
    {
        this.stored = stored;
    }

    /// <summary>The tokenizer (loaded on first use).</summary>
    public Tokenizer Tokenizer => tokenizer.Value;

    /// <summary>This shard's sequences from <paramref name="start"/> (the beginning when null).</summary>
    public IEnumerable<PackedSequence> Sequences(DataPosition? start = null) =>
        (stored?.Invoke(start) ?? SequenceStream.Read(Source, () => tokenizer.Value, MaxLength, Documents, Report, hub, start)).Where(s => Shard.Holds(s.Index));

    /// <summary>This shard's batches from <paramref name="start"/>. All sequences must have one length. // [B, T]</summary>
    public IEnumerable<TokenBatch> Batches(DataPosition? start = null) => Group(Sequences(start), BatchSize);

    /// <summary>Sequences held in memory (tests, benches) as a batch stream that opens at a position
    /// (its <see cref="DataPosition.Sequence"/> is the index of the next sequence).</summary>
    public static Func<DataPosition?, IEnumerable<TokenBatch>> InMemory(IReadOnlyList<long[]> sequences, int batchSize) =>
        start => Group(sequences.Select((s, i) => new PackedSequence(s, i, new DataPosition { Sequence = i + 1L }))
            .Skip(checked((int)(start?.Sequence ?? 0))), batchSize);

    /// <summary>Groups sequences into batches of <paramref name="batchSize"/> (the last may be smaller),
    /// checking that all have one length.</summary>
    static IEnumerable<TokenBatch> Group(IEnumerable<PackedSequence> sequences, int batchSize)
    {
        if (batchSize <= 0) throw new MlsaeException($"--batch-size must be positive, got {batchSize}");
        int length = -1;
        foreach (var chunk in sequences.Chunk(batchSize))
        {
            foreach (var s in chunk)
            {
                if (length < 0) length = s.Ids.Length;
                else if (s.Ids.Length != length)
                    throw new MlsaeException($"data: sequences of different lengths ({length} and {s.Ids.Length}); pre-tokenized input must have one length");
            }
            yield return new TokenBatch(chunk.Select(s => s.Ids).ToArray(), chunk.Select(s => s.Index).ToArray(), chunk[^1].Next);
        }
    }
}

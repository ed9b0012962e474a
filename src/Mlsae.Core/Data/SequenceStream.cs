using Mlsae.Hub;
using Mlsae.Tokenization;

namespace Mlsae.Data;

/// <summary>
/// The token sequences of a data source: pre-tokenized JSONL is used line by line as it stands;
/// any text source is packed exactly as the reference packs it (<see cref="SequencePacker"/>).
/// Every sequence carries the position after it, so a stream can be reopened where it stood.
/// </summary>
public static class SequenceStream
{
    /// <summary>Streams the sequences of <paramref name="source"/>. <paramref name="tokenizer"/> is
    /// needed only for text sources.</summary>
    public static IEnumerable<long[]> Open(DataSource source, Func<Tokenizer> tokenizer, int maxLength,
        DocumentOptions? options, DataReport? report, Func<HubClient> hub) =>
        Read(source, tokenizer, maxLength, options, report, hub).Select(s => s.Ids);

    /// <summary>Streams the sequences of <paramref name="source"/> from <paramref name="start"/>
    /// (the beginning when null), without reading what comes before it beyond one map batch.</summary>
    public static IEnumerable<PackedSequence> Read(DataSource source, Func<Tokenizer> tokenizer, int maxLength,
        DocumentOptions? options, DataReport? report, Func<HubClient> hub, DataPosition? start = null)
    {
        start ??= DataPosition.Start;
        if (source.IsLocal && TokenIdsJsonl.Looks(source.Data)) return PreTokenized(source.Data, report, start);
        var tok = tokenizer();
        int eos = tok.TokenToId("<|endoftext|>") ?? throw new MlsaeException($"{tok.Source}: no <|endoftext|> token to join documents with");
        return SequencePacker.Pack(source.Documents(hub, options, report, start.Document), tok, eos, EffectiveMaxLength(tok, maxLength), start);
    }

    /// <summary>The reference's <c>min(tokenizer.model_max_length, max_length)</c>.</summary>
    public static int EffectiveMaxLength(Tokenizer tokenizer, int maxLength) => Math.Min(maxLength, tokenizer.ModelMaxLength ?? int.MaxValue);

    static IEnumerable<PackedSequence> PreTokenized(string path, DataReport? report, DataPosition start)
    {
        if (report is not null) report.Files++;
        long index = start.Sequence;
        foreach (var (ids, next) in TokenIdsJsonl.Sequences(path, sameLength: true, start.Document))
        {
            if (report is not null) report.Documents++;
            yield return new PackedSequence(ids, index, new DataPosition { Document = next, Sequence = index + 1 });
            index++;
        }
    }
}

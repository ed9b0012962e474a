using Mlsae.Hub;
using Mlsae.Tokenization;

namespace Mlsae.Data;

/// <summary>
/// The token sequences a data-reading command consumes: pre-tokenized JSONL is used line by line
/// as it stands; any text source is packed exactly as the reference packs it
/// (<see cref="SequencePacker"/>). This is the one path <c>data</c>, <c>activations</c>,
/// <c>train</c> and <c>eval</c> share.
/// </summary>
public static class SequenceStream
{
    /// <summary>Streams the sequences of <paramref name="source"/>. <paramref name="tokenizer"/> is
    /// needed only for text sources.</summary>
    public static IEnumerable<long[]> Open(DataSource source, Func<Tokenizer> tokenizer, int maxLength,
        DocumentOptions? options, DataReport? report, Func<HubClient> hub)
    {
        if (source.IsLocal && TokenIdsJsonl.Looks(source.Data)) return PreTokenized(source.Data, report);
        var tok = tokenizer();
        int eos = tok.TokenToId("<|endoftext|>") ?? throw new MlsaeException($"{tok.Source}: no <|endoftext|> token to join documents with");
        return SequencePacker.Pack(source.Documents(hub, options, report), tok, eos, EffectiveMaxLength(tok, maxLength));
    }

    /// <summary>The reference's <c>min(tokenizer.model_max_length, max_length)</c>.</summary>
    public static int EffectiveMaxLength(Tokenizer tokenizer, int maxLength) => Math.Min(maxLength, tokenizer.ModelMaxLength ?? int.MaxValue);

    static IEnumerable<long[]> PreTokenized(string path, DataReport? report)
    {
        if (report is not null) report.Files++;
        foreach (var ids in TokenIdsJsonl.Stream(path))
        {
            if (report is not null) report.Documents++;
            yield return ids;
        }
    }
}

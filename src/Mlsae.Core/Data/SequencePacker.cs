using Mlsae.Tokenization;

namespace Mlsae.Data;

/// <summary>
/// The reference's training sequences (<c>mlsae/model/data.py</c>, <c>concat_and_tokenize</c> run
/// as a batched map of 1024 documents): per map batch, the text <c>EOS d1 EOS d2 … EOS dn</c> is
/// tokenized (so every document is preceded by EOS), cut into consecutive chunks of
/// <c>maxLength</c>, and the last chunk of the batch is always dropped, even when it is full or
/// the only one. Nothing carries over between batches, which is what makes a stream resumable at
/// a map batch's first document.
/// </summary>
public static class SequencePacker
{
    /// <summary>The reference's map batch size.</summary>
    public const int ReferenceMapBatchSize = 1024;

    /// <summary>Packs a stream of documents into sequences of exactly <paramref name="maxLength"/>
    /// ids, in order. Documents of one batch are tokenized in parallel; the order is deterministic.</summary>
    public static IEnumerable<long[]> Pack(IEnumerable<string> documents, Tokenizer tokenizer, int eosId, int maxLength,
        int mapBatchSize = ReferenceMapBatchSize) =>
        Pack(documents.Select(d => new Document(d, default)), tokenizer, eosId, maxLength, DataPosition.Start, mapBatchSize).Select(s => s.Ids);

    /// <summary>
    /// Packs <paramref name="documents"/>, which start at <paramref name="start"/>'s map batch, and
    /// drops that batch's first <see cref="DataPosition.Skip"/> sequences (consumed before a resume).
    /// </summary>
    public static IEnumerable<PackedSequence> Pack(IEnumerable<Document> documents, Tokenizer tokenizer, int eosId, int maxLength,
        DataPosition start, int mapBatchSize = ReferenceMapBatchSize)
    {
        if (maxLength <= 0) throw new MlsaeException($"--max-length must be positive, got {maxLength}");
        if (mapBatchSize <= 0) throw new MlsaeException($"map batch size must be positive, got {mapBatchSize}");
        long index = start.Sequence;
        int skip = start.Skip;
        foreach (var batch in documents.Chunk(mapBatchSize))
        {
            var encoded = new List<int>[batch.Length];
            Parallel.For(0, batch.Length, i => encoded[i] = tokenizer.Encode(batch[i].Text));
            var ids = new List<long>();
            foreach (var doc in encoded)
            {
                ids.Add(eosId);
                foreach (var id in doc) ids.Add(id);
            }
            // Chunks [0:L], [L:2L], …; the last one (full or not) is dropped, as the reference's v[:-1].
            int chunks = (ids.Count + maxLength - 1) / maxLength;
            for (int c = skip; c < chunks - 1; c++, index++)
                yield return new PackedSequence(ids.GetRange(c * maxLength, maxLength).ToArray(), index,
                    new DataPosition { Document = batch[0].At, Skip = c + 1, Sequence = index + 1 });
            skip = 0;
        }
    }
}

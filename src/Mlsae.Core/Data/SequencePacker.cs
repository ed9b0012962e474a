using Mlsae.Tokenization;

namespace Mlsae.Data;

/// <summary>
/// The reference's training sequences (<c>mlsae/model/data.py</c>, <c>concat_and_tokenize</c> run
/// as a batched map of 1024 documents): per map batch, the text <c>EOS d1 EOS d2 … EOS dn</c> is
/// tokenized (so every document is preceded by EOS), cut into consecutive chunks of
/// <c>maxLength</c>, and the last chunk of the batch is always dropped, even when it is full or
/// the only one. Nothing carries over between batches.
/// </summary>
public static class SequencePacker
{
    /// <summary>The reference's map batch size.</summary>
    public const int ReferenceMapBatchSize = 1024;

    /// <summary>Packs a stream of documents into sequences of exactly <paramref name="maxLength"/>
    /// ids, in order. Documents of one batch are tokenized in parallel; the order is deterministic.</summary>
    public static IEnumerable<long[]> Pack(IEnumerable<string> documents, Tokenizer tokenizer, int eosId, int maxLength,
        int mapBatchSize = ReferenceMapBatchSize)
    {
        if (maxLength <= 0) throw new MlsaeException($"--max-length must be positive, got {maxLength}");
        if (mapBatchSize <= 0) throw new MlsaeException($"map batch size must be positive, got {mapBatchSize}");
        foreach (var batch in documents.Chunk(mapBatchSize))
        {
            var encoded = new List<int>[batch.Length];
            Parallel.For(0, batch.Length, i => encoded[i] = tokenizer.Encode(batch[i]));
            var ids = new List<long>();
            foreach (var doc in encoded)
            {
                ids.Add(eosId);
                foreach (var id in doc) ids.Add(id);
            }
            // Chunks [0:L], [L:2L], …; the last one (full or not) is dropped, as the reference's v[:-1].
            int chunks = (ids.Count + maxLength - 1) / maxLength;
            for (int c = 0; c < chunks - 1; c++)
                yield return ids.GetRange(c * maxLength, maxLength).ToArray();
        }
    }
}

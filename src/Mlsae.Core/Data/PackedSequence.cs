namespace Mlsae.Data;

/// <summary>One training sequence of a stream and where the stream stands after it.</summary>
/// <param name="Ids">Exactly max_length token ids (pre-tokenized input: the line as it stands). // [T]</param>
/// <param name="Index">Its index in the unsharded stream (the shard rule's j).</param>
/// <param name="Next">The position just after it: reopening the stream there yields the next sequence.</param>
public sealed record PackedSequence(long[] Ids, long Index, DataPosition Next);

using static TorchSharp.torch;

namespace Mlsae.Data;

/// <summary>A batch of sequences of one length, their indices in the whole stream, and where the
/// stream stands after the batch (what a training state saves).</summary>
/// <param name="Sequences">B sequences of T ids. // [B, T]</param>
/// <param name="Indices">Each sequence's index in the unsharded stream. // [B]</param>
/// <param name="Next">The position after the batch's last sequence.</param>
public sealed record TokenBatch(long[][] Sequences, long[] Indices, DataPosition Next)
{
    /// <summary>B.</summary>
    public int Size => Sequences.Length;
    /// <summary>Tokens in the batch (B · T).</summary>
    public long Tokens => Sequences.Length * (long)Sequences[0].Length;

    /// <summary>The ids as a tensor on <paramref name="device"/>, checked against the vocabulary. // [B, T] int64</summary>
    public Tensor ToTensor(long vocabSize, Device device) => ToTensor(Sequences, vocabSize, device);

    /// <summary>Sequences of one length as a tensor, each id checked to be below
    /// <paramref name="vocabSize"/> (a tokenizer and a model that disagree). // [B, T] int64</summary>
    public static Tensor ToTensor(IReadOnlyList<long[]> sequences, long vocabSize, Device device)
    {
        if (sequences.Count == 0) throw new MlsaeException("data: an empty batch");
        int length = sequences[0].Length;
        var flat = new long[sequences.Count * (long)length];
        for (int b = 0; b < sequences.Count; b++)
        {
            var s = sequences[b];
            if (s.Length != length) throw new MlsaeException($"data: sequences of different lengths ({length} and {s.Length}) in one batch");
            foreach (var id in s)
                if (id >= vocabSize) throw new MlsaeException($"data: token id {id} is out of range for vocab_size {vocabSize} (tokenizer and model disagree?)");
            s.CopyTo(flat, b * (long)length);
        }
        return tensor(flat, [sequences.Count, length]).to(device);
    }
}

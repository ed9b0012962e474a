namespace Mlsae.Bench;

/// <summary>The train-pipeline bench's token ids, shared with the Python reference through a file of
/// S·T little-endian int64 (S sequences of T ids), so both sides train on the same tokens.</summary>
public static class BenchTokens
{
    /// <summary>Uniform ids below 50277 (Pythia's tokenizer size) from a fixed seed: <paramref name="count"/> sequences of <paramref name="seq"/>.</summary>
    public static List<long[]> Generate(int count, int seq)
    {
        var rng = new Random(1);
        return [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, seq).Select(_ => (long)rng.Next(50277)).ToArray())];
    }

    /// <summary>Writes the sequences (all of one length).</summary>
    public static void Write(string path, IReadOnlyList<long[]> sequences)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        foreach (var s in sequences)
            foreach (var id in s) writer.Write(id);   // BinaryWriter is little-endian on every platform
    }

    /// <summary>Reads sequences of <paramref name="seq"/> ids; the file must hold a whole number of them.</summary>
    public static List<long[]> Read(string path, int seq)
    {
        if (!BitConverter.IsLittleEndian) throw new MlsaeException("--tokens: this bench reads little-endian ids only");
        if (!File.Exists(path)) throw new MlsaeException($"--tokens: {path} not found");
        var bytes = File.ReadAllBytes(path);
        long perSequence = 8L * seq;
        if (bytes.Length == 0 || bytes.Length % perSequence != 0)
            throw new MlsaeException($"--tokens {path}: {bytes.Length} bytes is not a whole number of {seq}-token int64 sequences");
        var ids = new long[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, ids, 0, bytes.Length);
        return [.. ids.Chunk(seq)];
    }
}

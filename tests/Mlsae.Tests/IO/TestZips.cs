using System.IO.Compression;
using System.Text;

namespace Mlsae.Tests.IO;

/// <summary>Zip files for checkpoint tests: torch.save's layout through <see cref="ZipArchive"/>,
/// and hand-written archives (sparse storages, declared sizes that lie) that ZipArchive cannot write.</summary>
public static class TestZips
{
    /// <summary>Writes <c>archive/data.pkl</c> and one <c>archive/data/&lt;key&gt;</c> per storage, as torch.save lays them out.</summary>
    public static string TorchZip(byte[] pickle, IReadOnlyDictionary<string, byte[]> storages,
        CompressionLevel level = CompressionLevel.NoCompression, string? path = null)
    {
        path ??= Path.Combine(Fixtures.TempDir(), "pytorch_model.bin");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Add(string name, byte[] data)
        {
            using var s = zip.CreateEntry(name, level).Open();
            s.Write(data);
        }
        Add("archive/data.pkl", pickle);
        foreach (var (key, data) in storages) Add($"archive/data/{key}", data);
        return path;
    }

    /// <summary>One entry of a hand-written zip. <see cref="Write"/> writes its
    /// <see cref="CompressedSize"/> bytes of data; null leaves them as a hole (zeros, not on disk).</summary>
    public sealed record Entry(string Name, ushort Method, uint Crc, long CompressedSize, long Size, Action<Stream>? Write);

    /// <summary>Writes a plain (non-zip64) archive of <paramref name="entries"/>, sizes as declared:
    /// nothing checks that they match the data.</summary>
    public static void Raw(string path, IReadOnlyList<Entry> entries)
    {
        using var f = new FileStream(path, FileMode.Create, FileAccess.ReadWrite);
        using var w = new BinaryWriter(f, Encoding.UTF8, leaveOpen: true);
        var offsets = new List<long>();
        foreach (var e in entries)
        {
            offsets.Add(f.Position);
            var name = Encoding.UTF8.GetBytes(e.Name);
            w.Write(0x04034b50u); w.Write((ushort)20); w.Write((ushort)0); w.Write(e.Method);
            w.Write((ushort)0); w.Write((ushort)0x21);   // 1980-01-01 00:00
            w.Write(e.Crc); w.Write((uint)e.CompressedSize); w.Write((uint)e.Size);
            w.Write((ushort)name.Length); w.Write((ushort)0); w.Write(name);
            w.Flush();
            if (e.Write is null)
            {
                f.SetLength(f.Position + e.CompressedSize);
                f.Seek(e.CompressedSize, SeekOrigin.Current);
            }
            else e.Write(f);
        }
        long centralStart = f.Position;
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var name = Encoding.UTF8.GetBytes(e.Name);
            w.Write(0x02014b50u); w.Write((ushort)20); w.Write((ushort)20); w.Write((ushort)0); w.Write(e.Method);
            w.Write((ushort)0); w.Write((ushort)0x21);
            w.Write(e.Crc); w.Write((uint)e.CompressedSize); w.Write((uint)e.Size);
            w.Write((ushort)name.Length); w.Write((ushort)0); w.Write((ushort)0);
            w.Write((ushort)0); w.Write((ushort)0); w.Write(0u); w.Write((uint)offsets[i]);
            w.Write(name);
        }
        long centralEnd = f.Position;
        w.Write(0x06054b50u); w.Write((ushort)0); w.Write((ushort)0);
        w.Write((ushort)entries.Count); w.Write((ushort)entries.Count);
        w.Write((uint)(centralEnd - centralStart)); w.Write((uint)centralStart); w.Write((ushort)0);
    }

    /// <summary>A raw deflate stream of <paramref name="mebibytes"/> MiB of zeros, ~1000x smaller:
    /// one sync-flushed (non-final) block of 1 MiB of zeros repeated, then an empty final block.
    /// Repeating the block is valid: its matches only reach back over zeros.</summary>
    public static byte[] DeflatedZeros(int mebibytes)
    {
        var one = new MemoryStream();
        long flushed;
        using (var d = new DeflateStream(one, CompressionLevel.Optimal, leaveOpen: true))
        {
            d.Write(new byte[1 << 20]);
            d.Flush();   // a sync flush: ends the block on a byte boundary, the stream stays open
            flushed = one.Length;
        }
        var block = one.ToArray()[..(int)flushed];
        var all = new MemoryStream();
        for (int i = 0; i < mebibytes; i++) all.Write(block);
        all.Write([0x03, 0x00]);   // final block, fixed Huffman, end-of-block only
        return all.ToArray();
    }
}

/// <summary>CRC-32 (zip's), with a fast path for runs of zeros (the holes of sparse test files).</summary>
public static class Crc32
{
    static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>The running (pre-inverted) register after <paramref name="data"/>; start from 0xFFFFFFFF, finish with ~.</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data) crc = Table[(crc ^ b) & 0xff] ^ (crc >> 8);
        return crc;
    }

    /// <summary>The register after <paramref name="count"/> zero bytes, in O(log count): feeding zeros is
    /// linear over GF(2), so the 32x32 matrix for one zero byte is squared (as zlib's crc32_combine does).</summary>
    public static uint Zeros(uint crc, long count)
    {
        var op = new uint[32];   // one zero byte: column i is the register after feeding a zero byte to bit i alone
        for (int i = 0; i < 32; i++) op[i] = Update(1u << i, [0]);
        while (count > 0)
        {
            if ((count & 1) != 0) crc = Apply(op, crc);
            op = Square(op);
            count >>= 1;
        }
        return crc;
    }

    static uint Apply(uint[] m, uint v)
    {
        uint r = 0;
        for (int i = 0; v != 0; i++, v >>= 1) if ((v & 1) != 0) r ^= m[i];
        return r;
    }

    static uint[] Square(uint[] m) => m.Select(col => Apply(m, col)).ToArray();
}

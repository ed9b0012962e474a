using System.Buffers.Binary;
using System.Text;

namespace Mlsae.Tests.IO;

/// <summary>One zip record as laid out on disk: what PyTorch's writer fixes and readers rely on.</summary>
public sealed record ZipRecord(string Name, ushort Version, ushort Flags, ushort Method, ushort ExtraId, long DataOffset, long Size);

/// <summary>Walks a zip's local headers in file order (sizes from the data descriptor, as PyTorch
/// writes them), independently of System.IO.Compression.</summary>
public static class ZipLayout
{
    public static List<ZipRecord> Read(string path)
    {
        var b = File.ReadAllBytes(path);
        var records = new List<ZipRecord>();
        int at = 0;
        while (BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)) == 0x04034b50)
        {
            var h = b.AsSpan(at);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(h[6..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(h[26..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            string name = Encoding.UTF8.GetString(h.Slice(30, nameLength));
            ushort extraId = extraLength >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(h[(30 + nameLength)..]) : (ushort)0;
            int data = at + 30 + nameLength + extraLength;
            // The data descriptor follows the data; find its size through the central directory's copy.
            long size = CentralSize(b, name);
            records.Add(new ZipRecord(name, BinaryPrimitives.ReadUInt16LittleEndian(h[4..]), flags,
                BinaryPrimitives.ReadUInt16LittleEndian(h[8..]), extraId, data, size));
            at = data + (int)size + ((flags & 8) != 0 ? 16 : 0);
        }
        return records;
    }

    static long CentralSize(byte[] b, string name)
    {
        var target = Encoding.UTF8.GetBytes(name);
        for (int at = 0; at + 46 <= b.Length; at++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at)) != 0x02014b50) continue;
            int n = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at + 28));
            if (b.AsSpan(at + 46, n).SequenceEqual(target)) return BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at + 24));
        }
        throw new InvalidDataException($"{name} not in the central directory");
    }
}

using System.Buffers.Binary;
using System.Text;

namespace Mlsae.IO;

/// <summary>
/// The zip container of <c>torch.save</c>, laid out byte for byte as PyTorch's
/// <c>PyTorchStreamWriter</c> (miniz) lays it out: every record stored uncompressed under
/// <c>&lt;archive&gt;/</c>, its data 64-byte aligned by an <c>FB</c> extra field padded with
/// <c>'Z'</c>, general-purpose flags 0x0808 (UTF-8 names, sizes in a data descriptor after the
/// data), zero times and versions, and a zip64 end record before the classic one.
/// </summary>
/// <remarks>Records are limited to 4 GiB and the archive to 4 GiB (the 32-bit fields; miniz would
/// switch to zip64 extras beyond), far above a tuned lens or a small state dict.</remarks>
internal sealed class TorchZipWriter(Stream stream, string archiveName)
{
    /// <summary>PyTorch's record alignment (<c>kFieldAlignment</c>).</summary>
    public const int Alignment = 64;

    const ushort Flags = 0x0808;
    readonly List<(byte[] Name, uint Crc, uint Size, uint Offset)> entries = new();
    long position;

    /// <summary>The CRC-32 of every record, in order (what PyTorch's serialization id combines).</summary>
    public IEnumerable<uint> Checksums => entries.Select(e => e.Crc);

    /// <summary>The record names written so far, without the archive prefix.</summary>
    public List<string> Names { get; } = new();

    /// <summary>Writes one record <c>&lt;archive&gt;/<paramref name="name"/></c>.</summary>
    public void Record(string name, ReadOnlySpan<byte> data)
    {
        var fullName = Encoding.UTF8.GetBytes(archiveName + "/" + name);
        if ((ulong)data.Length >= uint.MaxValue || position + data.Length + 4096 >= uint.MaxValue)
            throw new MlsaeException($"torch checkpoint: record '{name}' ({data.Length:N0} bytes) would take the archive past 4 GiB, which this writer does not support");
        long offset = position;
        // As PyTorch's getPadding: align what follows the header, the name and a 4-byte FB field.
        long start = offset + 30 + fullName.Length + 4;
        int padding = (int)((Alignment - start % Alignment) % Alignment);
        Span<byte> header = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(header[26..], (ushort)fullName.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)(4 + padding));
        Write(header);
        Write(fullName);
        Span<byte> fb = stackalloc byte[4 + padding];
        fb.Fill((byte)'Z');
        fb[0] = (byte)'F'; fb[1] = (byte)'B';
        BinaryPrimitives.WriteUInt16LittleEndian(fb[2..], (ushort)padding);
        Write(fb);
        Write(data);
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(data);
        Span<byte> descriptor = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor, 0x08074b50);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[4..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[8..], (uint)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[12..], (uint)data.Length);
        Write(descriptor);
        entries.Add((fullName, crc, (uint)data.Length, (uint)offset));
        Names.Add(name);
    }

    /// <summary>Writes the central directory, the zip64 end record and locator, and the end record.</summary>
    public void Finish()
    {
        if (entries.Count >= ushort.MaxValue)
            throw new MlsaeException($"torch checkpoint: {entries.Count} records are more than this writer supports (65,534)");
        long directory = position;
        Span<byte> e = stackalloc byte[46];
        foreach (var (name, crc, size, offset) in entries)
        {
            e.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(e, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(e[8..], Flags);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(e[20..], size);
            BinaryPrimitives.WriteUInt32LittleEndian(e[24..], size);
            BinaryPrimitives.WriteUInt16LittleEndian(e[28..], (ushort)name.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[42..], offset);
            Write(e);
            Write(name);
        }
        long directoryBytes = position - directory;
        long zip64End = position;
        Span<byte> end64 = stackalloc byte[56];
        end64.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(end64, 0x06064b50);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[4..], 44);
        BinaryPrimitives.WriteUInt16LittleEndian(end64[12..], 0x031e);    // made by: Unix, 3.0 (as miniz)
        BinaryPrimitives.WriteUInt16LittleEndian(end64[14..], 0x002d);    // needed: 4.5 (zip64)
        BinaryPrimitives.WriteUInt64LittleEndian(end64[24..], (ulong)entries.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[32..], (ulong)entries.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[40..], (ulong)directoryBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[48..], (ulong)directory);
        Write(end64);
        Span<byte> locator = stackalloc byte[20];
        locator.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(locator, 0x07064b50);
        BinaryPrimitives.WriteUInt64LittleEndian(locator[8..], (ulong)zip64End);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
        Write(locator);
        Span<byte> end = stackalloc byte[22];
        end.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], (ushort)entries.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], (ushort)entries.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], (uint)directoryBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], (uint)directory);
        Write(end);
    }

    void Write(ReadOnlySpan<byte> data)
    {
        stream.Write(data);
        position += data.Length;
    }
}

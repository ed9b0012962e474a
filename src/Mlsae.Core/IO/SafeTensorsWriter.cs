using System.Text;
using System.Text.Json;
using TorchSharp;

namespace Mlsae.IO;

/// <summary>Writes safetensors files (atomically), laid out as the Python library does: tensors
/// ordered by dtype width (widest first) then name, header padded with spaces to 8 bytes.</summary>
public static class SafeTensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> to <paramref name="path"/>. Tensors may live on any
    /// device and be non-contiguous; they are copied to the CPU as needed and not disposed.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, torch.Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) => Write(path, tensors, metadata, TensorBytes.DefaultChunkBytes);

    /// <summary><see cref="Write(string, IReadOnlyDictionary{string, torch.Tensor}, IReadOnlyDictionary{string, string}?)"/>
    /// copying at most <paramref name="chunkBytes"/> bytes at a time (tests use small pieces).</summary>
    internal static void Write(string path, IReadOnlyDictionary<string, torch.Tensor> tensors,
        IReadOnlyDictionary<string, string>? metadata, long chunkBytes)
    {
        var ordered = tensors
            .OrderByDescending(kv => SafeTensorsDType.ElementSize(kv.Value.dtype))
            .ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .ToList();
        var header = new MemoryStream();
        long offset = 0;
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            foreach (var (name, t) in ordered)
            {
                long bytes = t.numel() * SafeTensorsDType.ElementSize(t.dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", SafeTensorsDType.Code(t.dtype));
                json.WriteStartArray("shape");
                foreach (var d in t.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        int pad = (int)((8 - header.Length % 8) % 8);
        for (int i = 0; i < pad; i++) header.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)header.Length));
            header.Position = 0;
            header.CopyTo(stream);
            foreach (var (_, t) in ordered)
            {
                if (t.numel() == 0) continue;
                using var cpu = t.detach().cpu().contiguous();
                // In pieces: one Span cannot pass 2 GiB.
                TensorBytes.ForEachChunk(cpu, chunkBytes, (chunk, _) => stream.Write(chunk));
            }
        });
    }
}

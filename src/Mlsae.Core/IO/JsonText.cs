using System.Text.Json;
using System.Text.Unicode;

namespace Mlsae.IO;

/// <summary>
/// Parses JSON from files that may be hostile, so that reading it later cannot throw anything but
/// <see cref="MlsaeException"/>. System.Text.Json accepts two things at parse time that make its
/// string accessors (<c>GetString</c>, <c>Name</c>, even <c>TryGetProperty</c>) throw
/// <see cref="InvalidOperationException"/> afterwards: invalid UTF-8 inside a string, and an
/// escaped unpaired surrogate such as <c>"\ud800"</c>. Both are refused here, with their offset.
/// </summary>
internal static class JsonText
{
    /// <summary>Parses <paramref name="json"/>; errors start with <paramref name="what"/>
    /// (e.g. "model.safetensors: corrupt safetensors header") and give the byte offset, counted
    /// from <paramref name="offset"/> (where the JSON starts in its file).</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> json, string what, long offset = 0)
    {
        if (!Utf8.IsValid(json.Span))
            throw new MlsaeException($"{what} (invalid UTF-8 at byte {offset + FirstInvalidUtf8(json.Span)})");
        var reader = new Utf8JsonReader(json.Span);
        try
        {
            while (reader.Read())
                if (reader.TokenType is JsonTokenType.PropertyName or JsonTokenType.String && reader.ValueIsEscaped)
                    reader.GetString();   // unescapes; throws on an unpaired surrogate
        }
        catch (JsonException e) { throw MlsaeException.From(what, e); }
        catch (InvalidOperationException)
        {
            throw new MlsaeException($"{what} (the string at byte {offset + reader.TokenStartIndex} escapes an unpaired UTF-16 surrogate)");
        }
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw MlsaeException.From(what, e); }
    }

    static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int at = 0;
        while (at < bytes.Length)
        {
            if (System.Buffers.OperationStatus.Done != System.Text.Rune.DecodeFromUtf8(bytes[at..], out _, out int used)) return at;
            at += used;
        }
        return at;
    }
}

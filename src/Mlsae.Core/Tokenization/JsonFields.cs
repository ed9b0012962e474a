using System.Text.Json;
using Mlsae.Data;

namespace Mlsae.Tokenization;

/// <summary>
/// Typed reads of the fields of a JSON file (tokenizer.json, tokenizer_config.json,
/// special_tokens_map.json, config.json). Every failure is one <see cref="MlsaeException"/> naming the
/// file and the field; nothing here lets a <see cref="JsonException"/>,
/// <see cref="InvalidOperationException"/> or <see cref="KeyNotFoundException"/> escape.
/// "Optional" reads treat an absent field and JSON <c>null</c> alike.
/// </summary>
internal static class JsonFields
{
    /// <summary>Reads and parses a file. Missing, unreadable, invalid UTF-8 (HF's readers reject it
    /// too) and invalid JSON are errors naming the file. A UTF-8 BOM is skipped.</summary>
    public static JsonDocument Parse(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: file not found");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw MlsaeException.From($"{path}: cannot read", e); }
        int start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        int bad = Utf8Text.FirstInvalid(bytes.AsSpan(start));
        if (bad >= 0) throw new MlsaeException($"{path}: invalid UTF-8 at byte {start + bad}");
        // Every string and key is unescaped once here, so an unpaired surrogate escape anywhere (a
        // key included: found by the fuzzer) is this one error, not an exception at the first read.
        return IO.JsonText.Parse(bytes.AsMemory(start), $"{path}: invalid JSON", start);
    }

    /// <summary>The root of a parsed file, which must be an object.</summary>
    public static JsonElement RootObject(JsonDocument doc, string path) =>
        doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement
            : throw new MlsaeException($"{path}: must hold a JSON object, got {JsonAt.Show(doc.RootElement)}");

    /// <summary>The value of <paramref name="key"/>, or null when absent or JSON null.</summary>
    public static JsonElement? Get(JsonElement obj, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>The value of <paramref name="key"/> of the object at <paramref name="at"/>; absent or null is an error.</summary>
    public static JsonElement Required(JsonElement obj, JsonAt at, string key) =>
        Get(obj, key) ?? throw at[key].Error("is missing");

    /// <summary><paramref name="e"/>, which must be an object.</summary>
    public static JsonElement Object(JsonElement e, JsonAt at) =>
        e.ValueKind == JsonValueKind.Object ? e : throw at.Wrong("an object", e);

    /// <summary><paramref name="e"/>, which must be an array.</summary>
    public static JsonElement Array(JsonElement e, JsonAt at) =>
        e.ValueKind == JsonValueKind.Array ? e : throw at.Wrong("an array", e);

    /// <summary>A string value. A lone UTF-16 surrogate escape (<c>"\ud800"</c>) is not text: an error, as in
    /// HF's Rust JSON reader.</summary>
    public static string String(JsonElement e, JsonAt at)
    {
        if (e.ValueKind != JsonValueKind.String) throw at.Wrong("a string", e);
        try { return e.GetString()!; }
        catch (InvalidOperationException) { throw at.Error($"is not valid Unicode text (a lone surrogate escape?), got {JsonAt.Show(e)}"); }
    }

    /// <summary>A property name, under the same rule as <see cref="String"/>.</summary>
    public static string Name(JsonProperty p, JsonAt at)
    {
        try { return p.Name; }
        catch (InvalidOperationException) { throw at.Error("has a key that is not valid Unicode text (a lone surrogate escape?)"); }
    }

    /// <summary>A boolean value.</summary>
    public static bool Bool(JsonElement e, JsonAt at) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw at.Wrong("true or false", e),
    };

    /// <summary>A finite number.</summary>
    public static double Number(JsonElement e, JsonAt at) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double d) && double.IsFinite(d) ? d : throw at.Wrong("a finite number", e);

    /// <summary>An integer (<c>64</c>, <c>64.0</c> and <c>6.4e1</c> alike, as Python's <c>int()</c> of
    /// a JSON float would take them) within <see cref="long"/>.</summary>
    public static long Integer(JsonElement e, JsonAt at)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            if (e.TryGetInt64(out long l)) return l;
            // 2^63 itself is not a long; the bound is exclusive.
            if (e.TryGetDouble(out double d) && double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 9.2233720368547758e18) return (long)d;
        }
        throw at.Wrong("an integer", e);
    }

    /// <summary>An integer in <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static int Integer(JsonElement e, JsonAt at, int min, int max)
    {
        long v = Integer(e, at);
        if (v < min || v > max) throw at.Error(min == 0 && max == int.MaxValue ? $"must be a non-negative integer, got {v}" : $"must be in {min}..{max}, got {v}");
        return (int)v;
    }

    /// <summary>An optional string field.</summary>
    public static string? OptString(JsonElement obj, JsonAt at, string key) => Get(obj, key) is { } v ? String(v, at[key]) : null;

    /// <summary>An optional boolean field.</summary>
    public static bool? OptBool(JsonElement obj, JsonAt at, string key) => Get(obj, key) is { } v ? Bool(v, at[key]) : null;

    /// <summary>An optional finite-number field.</summary>
    public static double? OptNumber(JsonElement obj, JsonAt at, string key) => Get(obj, key) is { } v ? Number(v, at[key]) : null;

    /// <summary>An optional integer field.</summary>
    public static long? OptInteger(JsonElement obj, JsonAt at, string key) => Get(obj, key) is { } v ? Integer(v, at[key]) : null;

    /// <summary>An optional object field.</summary>
    public static JsonElement? OptObject(JsonElement obj, JsonAt at, string key) => Get(obj, key) is { } v ? Object(v, at[key]) : null;

    /// <summary>An optional array field.</summary>
    public static JsonElement? OptArray(JsonElement obj, JsonAt at, string key) => Get(obj, key) is { } v ? Array(v, at[key]) : null;
}

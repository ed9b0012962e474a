using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mlsae.Tokenization;

/// <summary>A place in a JSON file, for one-line errors that name the file and the field:
/// <c>tokenizer.json: "model.merges[3]" must be a string, got 7</c>.</summary>
/// <param name="File">The file, as the user gave it.</param>
/// <param name="Field">The dotted path of the field (<c>model.vocab</c>, <c>added_tokens[2].id</c>); empty for the root.</param>
/// <param name="Entry">A key of the object at <paramref name="Field"/> whose value is meant (a vocab
/// token), shown quoted after the field: <c>"model.vocab" entry "Ġthe"</c>.</param>
internal readonly record struct JsonAt(string File, string Field, string? Entry = null)
{
    static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The root of <paramref name="file"/>.</summary>
    public static JsonAt Root(string file) => new(file, "");

    /// <summary>The field <paramref name="key"/> of this object.</summary>
    public JsonAt this[string key] => new(File, Entry is not null ? $"{Field}.{Entry}.{key}" : Field.Length == 0 ? key : $"{Field}.{key}");

    /// <summary>Element <paramref name="index"/> of this array.</summary>
    public JsonAt this[int index] => new(File, Entry is not null ? $"{Field}.{Entry}[{index}]" : $"{Field}[{index}]");

    /// <summary>The value of the key <paramref name="key"/> of this object, when the key is data (a vocab token), not a field name.</summary>
    public JsonAt EntryOf(string key) => new(File, Field, key);

    /// <summary>An error about this field: <c>file: "field" problem</c>.</summary>
    public MlsaeException Error(string problem) => new(
        Field.Length == 0 ? $"{File}: {problem}"
        : Entry is null ? $"{File}: \"{Field}\" {problem}"
        : $"{File}: \"{Field}\" entry {Quote(Entry)} {problem}");

    /// <summary>A wrong-type error: <c>file: "field" must be kind, got value</c>.</summary>
    public MlsaeException Wrong(string kind, JsonElement got) => Error($"must be {kind}, got {Show(got)}");

    /// <summary>A value as the message shows it: scalars as their JSON text (clipped), containers by kind.</summary>
    public static string Show(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => Clip(e.GetRawText()),
    };

    /// <summary>A string quoted as JSON, readable (non-ASCII kept) and clipped.</summary>
    public static string Quote(string s) => Clip(JsonSerializer.Serialize(s, Readable));

    static string Clip(string s) => s.Length <= 60 ? s : s[..57] + "…";
}

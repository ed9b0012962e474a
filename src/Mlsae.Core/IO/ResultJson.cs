using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlsae.IO;

/// <summary>
/// The JSON file of a typed result (eval.json, variances.json, prompt.json, a dists summary):
/// written indented with a final newline, atomically; read back as an object whose accessors
/// check each field's type and name the file and the field when it is wrong
/// (<c>eval.json: 'tokens' must be an integer, found a string</c>), so a bad file is an
/// <see cref="MlsaeException"/>, never a null reference or an invalid cast.
/// </summary>
internal sealed class ResultJson
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    readonly string file;
    readonly string where;

    ResultJson(string file, JsonObject json, string where)
    {
        this.file = file;
        this.where = where;
        Json = json;
    }

    /// <summary>The object read.</summary>
    public JsonObject Json { get; }

    /// <summary>Writes <paramref name="json"/> to <paramref name="path"/> atomically (indented, final newline).</summary>
    public static void Write(string path, JsonNode json) => AtomicFile.WriteText(path, json.ToJsonString(Indented) + "\n");

    /// <summary>Parses <paramref name="path"/>, which must hold one JSON object.</summary>
    public static ResultJson Read(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
            if (node is JsonObject o) _ = o.Count;   // materializes the properties: a duplicate key fails here, not on first access
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw MlsaeException.From($"{path}: not valid JSON", e);
        }
        if (node is not JsonObject json) throw new MlsaeException($"{path}: expected a JSON object, found {Kind(node)}");
        return new ResultJson(path, json, "");
    }

    /// <summary>Whether the field is present (null counts as present).</summary>
    public bool Has(string field) => Json.ContainsKey(field);

    /// <summary>An error naming the file and the field.</summary>
    public MlsaeException Error(string field, string problem) => new($"{file}: '{where}{field}' {problem}");

    JsonNode? Node(string field) => Json.TryGetPropertyValue(field, out var node) ? node : throw Error(field, "is missing");

    /// <summary>A required number.</summary>
    public double Double(string field) => Number<double>(Node(field), field, "a number");

    /// <summary>A required number or null (read as NaN: outputs write non-finite values as null).</summary>
    public double DoubleOrNaN(string field) => Node(field) is { } node ? Number<double>(node, field, "a number or null") : double.NaN;

    /// <summary>A required single-precision number.</summary>
    public float Float(string field) => Number<float>(Node(field), field, "a number");

    /// <summary>A required integer.</summary>
    public int Int(string field) => Number<int>(Node(field), field, "an integer");

    /// <summary>A required 64-bit integer.</summary>
    public long Long(string field) => Number<long>(Node(field), field, "an integer");

    /// <summary>An integer, or null when the field is absent.</summary>
    public int? OptionalInt(string field) => Has(field) ? Int(field) : null;

    /// <summary>An integer, or null when the field is absent.</summary>
    public long? OptionalLong(string field) => Has(field) ? Long(field) : null;

    /// <summary>A required string.</summary>
    public string String(string field) =>
        Node(field) is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw Error(field, $"must be a string, found {Kind(Json[field])}");

    /// <summary>A string, or null when the field is absent or null.</summary>
    public string? OptionalString(string field) => Has(field) && Json[field] is not null ? String(field) : null;

    /// <summary>A boolean, or <paramref name="absent"/> when the field is absent.</summary>
    public bool Bool(string field, bool absent) => !Has(field) ? absent
        : Json[field] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>()
        : throw Error(field, $"must be true or false, found {Kind(Json[field])}");

    /// <summary>A required array of integers.</summary>
    public int[] Ints(string field) => Items(field).Select((n, i) => Number<int>(n, $"{field}[{i}]", "an integer")).ToArray();

    /// <summary>A required array of numbers; with <paramref name="nullIsNaN"/>, null entries read as NaN.</summary>
    public double[] Doubles(string field, bool nullIsNaN = false) => Items(field)
        .Select((n, i) => n is null && nullIsNaN ? double.NaN : Number<double>(n, $"{field}[{i}]", nullIsNaN ? "a number or null" : "a number")).ToArray();

    /// <summary>A required object.</summary>
    public ResultJson Object(string field) =>
        Node(field) is JsonObject o ? new ResultJson(file, o, $"{where}{field}.") : throw Error(field, $"must be an object, found {Kind(Json[field])}");

    /// <summary>A required array of objects.</summary>
    public IReadOnlyList<ResultJson> Objects(string field) => Items(field)
        .Select((n, i) => n is JsonObject o ? new ResultJson(file, o, $"{where}{field}[{i}].") : throw Error($"{field}[{i}]", $"must be an object, found {Kind(n)}"))
        .ToList();

    JsonArray Items(string field) => Node(field) is JsonArray a ? a : throw Error(field, $"must be an array, found {Kind(Json[field])}");

    T Number<T>(JsonNode? node, string field, string expected) where T : struct =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<T>(out var value)
            ? value
            : throw Error(field, $"must be {expected}, found {(node is JsonValue n && n.GetValueKind() == JsonValueKind.Number ? n.ToJsonString() : Kind(node))}");

    static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        _ => node.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            var other => other.ToString(),
        },
    };
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlsae.Interop;

/// <summary>
/// JSON text as Python's <c>json.dump(obj, f)</c> writes it, which is how both SAELens and
/// sparsify write <c>cfg.json</c>: one line, <c>", "</c> and <c>": "</c> separators, keys in
/// insertion order, non-ASCII characters escaped (<c>ensure_ascii</c>), no trailing newline.
/// Numbers are written as the node holds them (use <see cref="Autoencoder.MlsaeConfig"/>'s Python
/// float form for floats).
/// </summary>
internal static class PythonJson
{
    /// <summary>The text of <paramref name="node"/>.</summary>
    public static string Dumps(JsonNode? node)
    {
        var text = new StringBuilder();
        Write(text, node);
        return text.ToString();
    }

    static void Write(StringBuilder text, JsonNode? node)
    {
        switch (node)
        {
            case null:
                text.Append("null");
                break;
            case JsonObject obj:
                text.Append('{');
                bool first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first) text.Append(", ");
                    first = false;
                    String(text, key);
                    text.Append(": ");
                    Write(text, value);
                }
                text.Append('}');
                break;
            case JsonArray array:
                text.Append('[');
                for (int i = 0; i < array.Count; i++)
                {
                    if (i > 0) text.Append(", ");
                    Write(text, array[i]);
                }
                text.Append(']');
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                String(text, value.GetValue<string>());
                break;
            default:
                text.Append(node.ToJsonString());   // numbers, true, false
                break;
        }
    }

    static void String(StringBuilder text, string s)
    {
        text.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20 || c > 0x7f) text.Append($"\\u{(int)c:x4}");
                    else text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }
}

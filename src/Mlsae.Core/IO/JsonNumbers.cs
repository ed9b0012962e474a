using System.Text.Json.Nodes;

namespace Mlsae.IO;

/// <summary>Numbers for JSON outputs: NaN and infinities (e.g. a variance ratio over one layer) become null, which JSON can hold.</summary>
public static class JsonNumbers
{
    /// <summary>The value as a JSON number, or null when it is not finite.</summary>
    public static JsonNode? Of(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}

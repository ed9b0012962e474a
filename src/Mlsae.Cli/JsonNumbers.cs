using System.Text.Json.Nodes;

namespace Mlsae.Cli;

/// <summary>Numbers for JSON outputs: NaN and infinities (e.g. a variance ratio over one layer) become null, which JSON can hold.</summary>
static class JsonNumbers
{
    public static JsonNode? Of(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlsae.Tests.Tokenization;

/// <summary>Small edits of a JSON fixture, addressed by '/'-separated paths (array indices as numbers),
/// written to a fresh temp folder: the inputs of the error-path and property tests.</summary>
public static class JsonEdit
{
    /// <summary>Parses a JSON file into a mutable tree.</summary>
    public static JsonNode Read(string path) => JsonNode.Parse(File.ReadAllText(path))!;

    /// <summary>Sets the value at <paramref name="path"/> to the JSON text <paramref name="raw"/>, or
    /// removes it when <paramref name="raw"/> is null.</summary>
    public static JsonNode Apply(JsonNode root, string path, string? raw)
    {
        var parts = path.Split('/');
        var parent = root;
        foreach (var part in parts[..^1])
            parent = (parent is JsonArray a ? a[int.Parse(part)] : parent[part]) ?? throw new ArgumentException($"no node at {part} of {path}");
        string last = parts[^1];
        if (parent is JsonArray array)
        {
            int i = int.Parse(last);
            if (raw is null) array.RemoveAt(i);
            else array[i] = JsonNode.Parse(raw);
        }
        else if (raw is null) parent.AsObject().Remove(last);
        else parent[last] = JsonNode.Parse(raw);
        return root;
    }

    /// <summary>Writes <paramref name="text"/> as <paramref name="name"/> in a fresh temp folder and returns its path.</summary>
    public static string Write(string name, string text, string? dir = null)
    {
        dir ??= Fixtures.TempDir();
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Writes a tree as <paramref name="name"/>.</summary>
    public static string Write(string name, JsonNode node, string? dir = null) =>
        Write(name, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), dir);
}

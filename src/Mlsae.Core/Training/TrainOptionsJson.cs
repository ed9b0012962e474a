using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mlsae.Training;

/// <summary>
/// <c>run.json</c> as one flat object: each option group's keys side by side, as earlier versions
/// and the reference's configs write them, plus <c>format_version</c>. Reading gives every group
/// the whole object (each takes its own keys), so older files without the newer keys still load.
/// </summary>
public sealed class TrainOptionsJson : JsonConverter<TrainOptions>
{
    /// <summary>The options run.json is written and read with.</summary>
    public static JsonSerializerOptions Indented { get; } = new()
    {
        WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never, RespectNullableAnnotations = true,
    };

    static readonly JsonSerializerOptions Groups = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never, RespectNullableAnnotations = true,
    };

    /// <inheritdoc />
    public override TrainOptions Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var node = JsonNode.Parse(ref reader) as JsonObject ?? throw new JsonException("expected a JSON object");
        int version = node["format_version"] is JsonNode v ? v.GetValue<int>() : 1;
        T Group<T>() => node.Deserialize<T>(Groups) ?? throw new JsonException($"no {typeof(T).Name}");
        return new TrainOptions
        {
            FormatVersion = version, Model = Group<ModelOptions>(), Data = Group<TrainDataOptions>(), Autoencoder = Group<AutoencoderOptions>(),
            Optimizer = Group<OptimizerOptions>(), Runtime = Group<RuntimeOptions>(),
        };
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TrainOptions value, JsonSerializerOptions options)
    {
        var flat = new JsonObject { ["format_version"] = value.FormatVersion };
        foreach (var group in new JsonNode?[]
        {
            JsonSerializer.SerializeToNode(value.Model, Groups), JsonSerializer.SerializeToNode(value.Data, Groups),
            JsonSerializer.SerializeToNode(value.Autoencoder, Groups), JsonSerializer.SerializeToNode(value.Optimizer, Groups),
            JsonSerializer.SerializeToNode(value.Runtime, Groups),
        })
            foreach (var (key, item) in group!.AsObject()) flat[key] = item?.DeepClone();
        flat.WriteTo(writer, options);
    }
}

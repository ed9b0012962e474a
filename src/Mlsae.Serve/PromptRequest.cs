using System.Text.Json;

namespace Mlsae.Serve;

/// <summary>
/// The body of <c>/api/prompt</c> and its variants: <c>{"text": ...}</c> or
/// <c>{"input_ids": [...]}</c>, plus the fields a variant names (<c>layer</c>, <c>latent</c>,
/// <c>factor</c>). Every problem is an <see cref="MlsaeException"/> with a one-line message,
/// answered 400.
/// </summary>
/// <param name="Ids">The prompt's token ids. // [T]</param>
/// <param name="Body">The whole body, for the variant's fields.</param>
public sealed record PromptRequest(long[] Ids, JsonElement Body)
{
    /// <summary>Parses and checks <paramref name="body"/> against the explorer's model and limits.</summary>
    public static PromptRequest Parse(JsonElement body, Explorer explorer, ServeOptions options)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new MlsaeException("the body must be a JSON object");
        bool hasText = body.TryGetProperty("text", out var text), hasIds = body.TryGetProperty("input_ids", out var ids);
        if (hasText == hasIds) throw new MlsaeException("give exactly one of \"text\" and \"input_ids\"");
        long[] tokens;
        if (hasText)
        {
            if (text.ValueKind != JsonValueKind.String) throw new MlsaeException("\"text\" must be a string");
            if (explorer.Tokenizer is null) throw new MlsaeException("this server has no tokenizer: send \"input_ids\"");
            var value = text.GetString()!;
            // A cheap bound before tokenizing: a token is at least one byte of UTF-8... or one char.
            if (value.Length > options.MaxPromptTokens * 64) throw new MlsaeException($"\"text\" is longer than {options.MaxPromptTokens} tokens could be");
            tokens = explorer.Tokenizer.Encode(value).Select(i => (long)i).ToArray();
        }
        else
        {
            if (ids.ValueKind != JsonValueKind.Array) throw new MlsaeException("\"input_ids\" must be an array of integers");
            if (ids.GetArrayLength() > options.MaxPromptTokens) throw new MlsaeException($"the prompt has {ids.GetArrayLength()} tokens; the limit is {options.MaxPromptTokens} (--max-prompt-tokens)");
            long vocab = explorer.Model.Model.Config.VocabSize;
            tokens = ids.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out var id) ? id
                : throw new MlsaeException("\"input_ids\" must be an array of integers")).ToArray();
            foreach (var id in tokens)
                if (id < 0 || id >= vocab) throw new MlsaeException($"token id {id} is outside the model's vocabulary (vocab_size {vocab})");
        }
        if (tokens.Length == 0) throw new MlsaeException("the prompt has no tokens");
        if (tokens.Length > options.MaxPromptTokens) throw new MlsaeException($"the prompt has {tokens.Length} tokens; the limit is {options.MaxPromptTokens} (--max-prompt-tokens)");
        return new PromptRequest(tokens, body);
    }

    /// <summary>A required integer field.</summary>
    public int Int(string name)
    {
        if (!Body.TryGetProperty(name, out var value)) throw new MlsaeException($"missing \"{name}\"");
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i) ? i : throw new MlsaeException($"\"{name}\" must be an integer");
    }

    /// <summary>A required finite number field.</summary>
    public double Number(string name)
    {
        if (!Body.TryGetProperty(name, out var value)) throw new MlsaeException($"missing \"{name}\"");
        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d) ? d : throw new MlsaeException($"\"{name}\" must be a finite number");
    }

    /// <summary>A required layer: one of the SAE's model layers.</summary>
    public int Layer(Explorer explorer)
    {
        int layer = Int("layer");
        return explorer.Model.Layers.Contains(layer) ? layer
            : throw new MlsaeException($"layer {layer} is not one of the SAE's layers [{string.Join(", ", explorer.Model.Layers)}]");
    }

    /// <summary>A required latent index, in range.</summary>
    public int Latent(Explorer explorer) => ApiJson.CheckLatent(Int("latent"), explorer);
}

using System.Globalization;
using Mlsae.Data;
using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Lens.Training;

/// <summary>
/// The resumable state of a tuned-lens run in one safetensors file, written atomically: the
/// translators, the SGD momentum buffers, the step, the tokens and the shuffled stream's
/// <see cref="WindowCursor"/> (its data position in the file's metadata).
/// </summary>
public static class LensTrainingState
{
    /// <summary>Where a loaded state stands.</summary>
    public sealed record Progress(long Step, long Tokens, WindowCursor Cursor);

    /// <summary>Writes the state.</summary>
    public static void Save(string path, LensTranslators translators, NesterovSgd sgd, long step, long tokens, WindowCursor cursor)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        var parameters = translators.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            tensors[$"param.{i}"] = parameters[i].detach().cpu();
            tensors[$"momentum.{i}"] = sgd.Buffers[i].cpu();
        }
        var metadata = new Dictionary<string, string>
        {
            ["step"] = step.ToString(CultureInfo.InvariantCulture), ["tokens"] = tokens.ToString(CultureInfo.InvariantCulture),
            ["window"] = cursor.Window.ToString(CultureInfo.InvariantCulture), ["used"] = cursor.Used.ToString(CultureInfo.InvariantCulture),
        };
        if (cursor.Start is not null) metadata["position"] = cursor.Start.ToJson();
        SafeTensorsWriter.Write(path, tensors, metadata);
    }

    /// <summary>Loads the state into <paramref name="translators"/> and <paramref name="sgd"/>.</summary>
    public static Progress Load(string path, LensTranslators translators, NesterovSgd sgd)
    {
        if (!File.Exists(path)) throw new MlsaeException($"--resume: {path} not found");
        using var file = SafeTensorsFile.Open(path);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var parameters = translators.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            if (!file.Names.Contains($"param.{i}") || !file.Shape($"param.{i}").SequenceEqual(parameters[i].shape))
                throw new MlsaeException($"{path}: no translator parameter {i} of shape [{string.Join(", ", parameters[i].shape)}] (a state of another model?)");
            parameters[i].copy_(file.Read($"param.{i}"));
            sgd.Buffers[i].copy_(file.Read($"momentum.{i}"));
        }
        long Get(string key) => file.Metadata.TryGetValue(key, out var v) && long.TryParse(v, CultureInfo.InvariantCulture, out long n) && n >= 0
            ? n : throw new MlsaeException($"{path}: metadata '{key}' missing or not a count");
        var start = file.Metadata.TryGetValue("position", out var p) ? DataPosition.FromJson(p, path) : null;
        return new Progress(Get("step"), Get("tokens"), new WindowCursor(start, Get("window"), checked((int)Get("used"))));
    }
}

using System.Globalization;
using System.Text;
using Mlsae.IO;

namespace Mlsae.Lens.Training;

/// <summary>
/// Writes a lens folder in the tuned-lens package's format (<c>TunedLens.save</c>):
/// <c>config.json</c> (the <c>TunedLensConfig</c> dataclass as <c>json.dump(asdict(config))</c>
/// writes it: its field order, Python's separators, ASCII escapes) and <c>params.pt</c> (the
/// <c>torch.save</c> of <c>layer_translators.state_dict()</c>), plus <c>params.safetensors</c>
/// with the same keys for readers without a pickle reader.
/// </summary>
public static class TunedLensFiles
{
    /// <summary>The config file name.</summary>
    public const string ConfigFile = "config.json";
    /// <summary>The torch checkpoint name.</summary>
    public const string ParamsFile = "params.pt";
    /// <summary>The safetensors copy.</summary>
    public const string SafeTensorsFile = "params.safetensors";

    /// <summary>Writes the three files into <paramref name="folder"/>. <paramref name="revision"/>
    /// is the model's hub revision, or null for a local model. The unembedding hash is left null:
    /// the package's hash is the SHA-256 of NumPy's printed summary of the matrix, which only NumPy
    /// reproduces, and <c>TunedLens</c> recomputes it on load (a null skips its check).</summary>
    public static void Write(string folder, LensTranslators translators, string baseModel, string? revision)
    {
        Directory.CreateDirectory(folder);
        var state = translators.StateDict();
        try
        {
            var modules = new List<string> { "" };
            modules.AddRange(Enumerable.Range(0, translators.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)));
            TorchCheckpointWriter.Write(Path.Combine(folder, ParamsFile), state, new TorchSaveOptions { ModuleMetadata = modules });
            SafeTensorsWriter.Write(Path.Combine(folder, SafeTensorsFile), state.ToDictionary(kv => kv.Key, kv => kv.Value));
            AtomicFile.WriteText(Path.Combine(folder, ConfigFile), Config(baseModel, translators.Weights[0].shape[0], translators.Count, revision));
        }
        finally
        {
            foreach (var (_, t) in state) t.Dispose();
        }
    }

    /// <summary>The <c>config.json</c> text: <c>TunedLensConfig</c>'s fields in declaration order.</summary>
    public static string Config(string baseModel, long dModel, int layers, string? revision) =>
        "{" + string.Join(", ",
            $"\"base_model_name_or_path\": {PythonString(baseModel)}",
            $"\"d_model\": {dModel}",
            $"\"num_hidden_layers\": {layers}",
            "\"bias\": true",
            $"\"base_model_revision\": {(revision is null ? "null" : PythonString(revision))}",
            "\"unembed_hash\": null",
            "\"lens_type\": \"linear_tuned_lens\"") + "}";

    // json.dumps with ensure_ascii=True.
    static string PythonString(string s)
    {
        var b = new StringBuilder("\"");
        foreach (char c in s)
            b.Append(c switch
            {
                '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", '\b' => "\\b", '\f' => "\\f",
                < ' ' or > '~' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        return b.Append('"').ToString();
    }
}

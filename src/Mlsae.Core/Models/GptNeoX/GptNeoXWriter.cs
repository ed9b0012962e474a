using Mlsae.IO;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>Saves a GPT-NeoX in HF format: <c>config.json</c> and <c>model.safetensors</c> (weights
/// in the config's <c>torch_dtype</c>, HF key names, <c>{"format": "pt"}</c> metadata).</summary>
public static class GptNeoXWriter
{
    /// <summary>Writes the model into <paramref name="folder"/> (created if needed), atomically per file.</summary>
    public static void Save(GptNeoX model, string folder)
    {
        Directory.CreateDirectory(folder);
        var storeAs = model.Config.TorchDtype switch
        {
            "float16" => ScalarType.Float16,
            "bfloat16" => ScalarType.BFloat16,
            "float64" => ScalarType.Float64,
            _ => ScalarType.Float32,
        };
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name == "embed_out.weight" && model.Config.TieWordEmbeddings) continue;
            tensors[name] = p.detach().to(storeAs).cpu();
        }
        SafeTensorsWriter.Write(Path.Combine(folder, "model.safetensors"), tensors,
            new Dictionary<string, string> { ["format"] = "pt" });
        AtomicFile.WriteText(Path.Combine(folder, "config.json"), model.Config.ToJson());
    }
}

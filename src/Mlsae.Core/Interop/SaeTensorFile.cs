using Mlsae.IO;
using TorchSharp;

namespace Mlsae.Interop;

/// <summary>
/// The safetensors file of an external SAE, read strictly as both tools' loaders do
/// (<c>load_state_dict</c> / <c>load_model</c> with <c>strict=True</c>): every expected tensor
/// present with the expected shape and a floating-point dtype (F32, F16 and BF16 are upcast exactly
/// to float32), finite, and no tensor left over. Errors are one line naming the file and tensor.
/// </summary>
internal sealed class SaeTensorFile : IDisposable
{
    readonly SafeTensorsFile file;
    readonly HashSet<string> read = new(StringComparer.Ordinal);
    readonly string expected;

    /// <summary>The file's path.</summary>
    public string Path => file.Path;

    SaeTensorFile(SafeTensorsFile file, string expected) { this.file = file; this.expected = expected; }

    /// <summary>Opens <paramref name="path"/>; <paramref name="expected"/> describes the tensors the
    /// format holds, for the missing-tensor message.</summary>
    public static SaeTensorFile Open(string path, string expected) => new(SafeTensorsFile.Open(path), expected);

    /// <summary>Whether the file holds <paramref name="name"/>.</summary>
    public bool Has(string name) => file.Names.Contains(name);

    /// <summary>Reads <paramref name="name"/> as float32 on the CPU after checking its shape against
    /// <paramref name="shape"/> (from the header, before any data is read). <paramref name="meaning"/>
    /// says where the expected shape comes from. The caller owns the tensor.</summary>
    public torch.Tensor Read(string name, long[] shape, string meaning)
    {
        if (!Has(name)) throw new MlsaeException($"{Path}: missing tensor '{name}' ({expected})");
        var stored = file.Shape(name);
        if (!stored.SequenceEqual(shape))
            throw new MlsaeException($"{Path}: tensor '{name}' has shape {Tensors.Shapes.Format(stored)}, expected {Tensors.Shapes.Format(shape)} ({meaning})");
        file.RequireFloat(name);
        read.Add(name);
        var tensor = file.Read(name);
        try
        {
            file.CheckFinite(name, tensor);
            if (tensor.dtype == torch.ScalarType.Float32) return tensor;
            using (tensor) return tensor.to(torch.ScalarType.Float32);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Marks <paramref name="name"/> as accounted for without reading it as a weight.</summary>
    public void Accept(string name) => read.Add(name);

    /// <summary>Reads <paramref name="name"/> in its stored dtype (for a tensor that is checked, not kept).</summary>
    public torch.Tensor ReadRaw(string name)
    {
        read.Add(name);
        return file.Read(name);
    }

    /// <summary>Fails on the first tensor (in name order) neither read nor accepted.
    /// <paramref name="explain"/> may say what a known extra tensor means.</summary>
    public void RefuseOthers(Func<string, string?>? explain = null)
    {
        foreach (var name in file.Names.Order(StringComparer.Ordinal))
            if (!read.Contains(name))
                throw new MlsaeException($"{Path}: unexpected tensor '{ContainedPath.Printable(name)}' ({explain?.Invoke(name) ?? expected})");
    }

    /// <inheritdoc />
    public void Dispose() => file.Dispose();
}

using TorchSharp;

namespace Mlsae.IO;

/// <summary>A named collection of tensors stored on disk (a state dict): safetensors, a PyTorch
/// pickle checkpoint, or a sharded set of either.</summary>
public interface IWeightSource : IDisposable
{
    /// <summary>Where the tensors come from, for error messages.</summary>
    string Path { get; }

    /// <summary>All tensor names.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>The stored shape of a tensor, without reading its data.</summary>
    long[] Shape(string name);

    /// <summary>The stored dtype of a tensor, without reading its data.</summary>
    torch.ScalarType DType(string name);

    /// <summary>Reads one tensor onto the CPU in its stored dtype. The caller owns it.</summary>
    torch.Tensor Read(string name);
}

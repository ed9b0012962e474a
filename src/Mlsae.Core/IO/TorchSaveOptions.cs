namespace Mlsae.IO;

/// <summary>What <see cref="TorchCheckpointWriter"/> writes besides the tensors, with the
/// defaults of <c>torch.save(module.state_dict(), path)</c> in PyTorch 2.x.</summary>
public sealed record TorchSaveOptions
{
    /// <summary>The folder name every record lives under; null: the file name without its
    /// extension, as PyTorch names it when saving to a path (<c>params.pt</c> → <c>params/</c>).</summary>
    public string? ArchiveName { get; init; }

    /// <summary>The module prefixes of the state dict's <c>_metadata</c> (each
    /// <c>{'version': 1}</c>, as <c>nn.Module.state_dict</c> records them: <c>''</c> for the root,
    /// then each submodule), pickled as the attribute of an <c>OrderedDict</c> root; null: a plain
    /// dict root without metadata (how HF's <c>pytorch_model.bin</c> files are pickled).</summary>
    public IReadOnlyList<string>? ModuleMetadata { get; init; } = [""];

    /// <summary>Whether to write the <c>byteorder</c> record (<c>little</c>; PyTorch ≥ 2.1).</summary>
    public bool ByteOrderRecord { get; init; } = true;

    /// <summary>Whether to write the <c>.data/serialization_id</c> record (PyTorch ≥ 2.2).</summary>
    public bool SerializationId { get; init; } = true;
}

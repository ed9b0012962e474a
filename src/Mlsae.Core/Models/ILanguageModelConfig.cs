namespace Mlsae.Models;

/// <summary>
/// The configuration facts the SAE side needs of any language model, as HF <c>config.json</c>
/// names them. A family's own config record (e.g. <see cref="GptNeoXConfig"/>) implements it.
/// </summary>
public interface ILanguageModelConfig
{
    /// <summary>HF <c>model_type</c>, the key <see cref="ModelRegistry"/> picks the loader by (<c>gpt_neox</c>).</summary>
    string ModelType { get; }
    /// <summary>Number of transformer blocks; layer indices run 0..NumHiddenLayers−1.</summary>
    int NumHiddenLayers { get; }
    /// <summary>d_model (D): the width of the residual stream.</summary>
    int HiddenSize { get; }
    /// <summary>Embedding rows (V).</summary>
    int VocabSize { get; }
    /// <summary>Longest sequence the model was trained for, when the config states it.</summary>
    int? MaxPositionEmbeddings { get; }
    /// <summary>Beginning-of-sequence token id, if any.</summary>
    long? BosTokenId { get; }
    /// <summary>End-of-sequence token id, if any.</summary>
    long? EosTokenId { get; }
    /// <summary>Padding token id, if any.</summary>
    long? PadTokenId { get; }
}

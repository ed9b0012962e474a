namespace Mlsae.Autoencoder;

/// <summary>How the autoencoder computes its encoder backward and its decode.</summary>
public enum MlsaeKernels
{
    /// <summary>TopK encoder with a sparse weight gradient and an EmbeddingBag decoder (the default).</summary>
    Sparse,
    /// <summary>The straight port: autograd through the dense encoder matmul and TopK, and a dense
    /// scatter + matmul decode. Kept as the benchmark baseline and as a cross-check in tests.</summary>
    Dense,
}

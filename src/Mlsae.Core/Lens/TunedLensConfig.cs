using Mlsae.IO;

namespace Mlsae.Lens;

/// <summary>
/// A tuned lens's <c>config.json</c>, as the <c>tuned-lens</c> package writes it
/// (<c>TunedLensConfig</c>): the model it was tuned for and the translators' shape. Keys this
/// reader does not know are ignored, as the package drops them.
/// </summary>
public sealed record TunedLensConfig
{
    /// <summary>The file name inside a lens folder.</summary>
    public const string FileName = "config.json";
    /// <summary>The only lens type there is: one affine translator per hidden state.</summary>
    public const string LinearTunedLens = "linear_tuned_lens";

    /// <summary><c>base_model_name_or_path</c>: the model the lens was tuned for (a hub id or a path).</summary>
    public required string BaseModelNameOrPath { get; init; }
    /// <summary><c>d_model</c>: the model's hidden size D.</summary>
    public required int DModel { get; init; }
    /// <summary><c>num_hidden_layers</c>: the model's block count L, which is also the translator count
    /// (translator i reads HF <c>hidden_states[i]</c>, the stream entering block i).</summary>
    public required int NumHiddenLayers { get; init; }
    /// <summary><c>bias</c>: whether the translators have a bias.</summary>
    public bool Bias { get; init; } = true;
    /// <summary><c>base_model_revision</c>, or null.</summary>
    public string? BaseModelRevision { get; init; }
    /// <summary><c>unembed_hash</c>: the package's hash of the unembedding it was tuned with, or null.
    /// Recorded, not checked: the package hashes numpy's printed text of the matrix, and itself only warns.</summary>
    public string? UnembedHash { get; init; }
    /// <summary><c>lens_type</c>; must be <see cref="LinearTunedLens"/>.</summary>
    public string LensType { get; init; } = LinearTunedLens;

    /// <summary>Reads and checks <paramref name="path"/>; a bad file is an <see cref="MlsaeException"/> naming it and the key.</summary>
    public static TunedLensConfig Read(string path)
    {
        if (!File.Exists(path)) throw new MlsaeException($"{path}: not found (a tuned lens folder holds config.json and params.pt)");
        var json = ResultJson.Read(path);
        var config = new TunedLensConfig
        {
            BaseModelNameOrPath = json.String("base_model_name_or_path"),
            DModel = json.Int("d_model"),
            NumHiddenLayers = json.Int("num_hidden_layers"),
            Bias = json.Bool("bias", absent: true),
            BaseModelRevision = json.OptionalString("base_model_revision"),
            UnembedHash = json.OptionalString("unembed_hash"),
            LensType = json.OptionalString("lens_type") ?? LinearTunedLens,
        };
        if (config.LensType != LinearTunedLens) throw json.Error("lens_type", $"is '{config.LensType}'; only '{LinearTunedLens}' lenses can be applied");
        if (config.DModel <= 0) throw json.Error("d_model", $"must be positive, got {config.DModel}");
        if (config.NumHiddenLayers <= 0) throw json.Error("num_hidden_layers", $"must be positive, got {config.NumHiddenLayers}");
        // D² floats per translator are read; a hostile config must not make that overflow.
        if (config.DModel > 131072) throw json.Error("d_model", $"is {config.DModel}, more than the largest hidden size this tool loads (131072)");
        return config;
    }
}

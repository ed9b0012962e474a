using Mlsae.Data;
using Mlsae.Training;

namespace Mlsae.Embedded;

/// <summary>
/// The offline default: the GPT-NeoX language model trained by this project on its synthetic
/// corpus (shipped in <c>embedded/model</c> and copied beside the executable), used whenever no
/// model is named, with the training run's own defaults sized for a few minutes on 2 cores.
/// </summary>
public static class EmbeddedModel
{
    /// <summary>The name <c>--model</c> and run.json use for it.</summary>
    public const string Name = "embedded";

    /// <summary>The model folder beside the executable.</summary>
    public static string ModelFolder => Path.Combine(AppContext.BaseDirectory, "embedded", "model");

    /// <summary>The folder of a model name that names the embedded model, else null.</summary>
    public static string? Folder(string model)
    {
        if (model != Name) return null;
        if (!File.Exists(Path.Combine(ModelFolder, "config.json")))
            throw new MlsaeException($"the embedded model is missing from {ModelFolder} (a broken build output?); pass --model");
        return ModelFolder;
    }

    /// <summary>
    /// The embedded run's own defaults, for every option the user left out: sized so that the
    /// README's first command trains a good MLSAE over all layers in a few minutes on 2 cores (the
    /// reference's 131k tokens per optimizer step would allow only a handful of steps).
    /// </summary>
    public static TrainOptions RunDefaults { get; } = new()
    {
        Model = new ModelOptions { Name = Name },
        Data = new TrainDataOptions { Source = DataSource.Embedded, ValData = DataSource.EmbeddedHeldOut, MaxLength = 128, BatchSize = 8, ValBatches = 8 },
        Autoencoder = new AutoencoderOptions { ExpansionFactor = 8, K = 16, AuxK = 64, DeadTokensThreshold = 200_000 },
        Optimizer = new OptimizerOptions { Lr = 1e-3, AccumulateGradBatches = 1, MaxTokens = 1_500_000 },
        Runtime = new RuntimeOptions { ValEvery = 250, CheckpointEvery = 100, LogEvery = 10 },
    };

    /// <summary>The single-prompt view of a run on the embedded model: agreement across a clause, then arithmetic.</summary>
    public const string Prompt = "The old keys that the baker found near the river are red. sum: 23 + 48 = 71.";
}

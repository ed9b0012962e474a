using Mlsae.Hub;
using Mlsae.Models;
using Mlsae.Tokenization;

namespace Mlsae.Cli.Commands;

/// <summary>A loaded model with the layers and special-token handling a command runs it with.</summary>
sealed class ModelContext : IDisposable
{
    public required string Name { get; init; }
    public required string Folder { get; init; }
    public required ILanguageModel Model { get; init; }
    public required int[] Layers { get; init; }
    public required SpecialTokens? Special { get; init; }

    /// <summary>The residual stream the autoencoder reads.</summary>
    public ResidualStream Stream => new(Model, Layers, Special);

    /// <summary>The model's own tokenizer.</summary>
    public Tokenizer Tokenizer() => Tokenization.Tokenizer.Load(Model.TokenizerFolder ?? Folder);

    public static ModelContext Open(string model, string revision, string? layers, string device, string dtype, bool skipSpecialTokens, CliConsole console)
    {
        var (dev, type) = CommonOptions.ParseCompute(device, dtype);
        var folder = EmbeddedDefaults.Folder(model) ?? ModelResolver.Resolve(model, revision, ActivationsCommand.NewHubClient(console));
        var loaded = ModelRegistry.Load(folder, dev, type);
        try
        {
            return new ModelContext
            {
                Name = model,
                Folder = folder,
                Model = loaded,
                Layers = CommonOptions.ParseLayers(layers, loaded.Config.NumHiddenLayers),
                Special = skipSpecialTokens ? loaded.SpecialTokens : null,
            };
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    public void Dispose() => Model.Dispose();
}

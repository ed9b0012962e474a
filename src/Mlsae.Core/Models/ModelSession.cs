using Mlsae.Embedded;
using Mlsae.Hub;
using Mlsae.Tokenization;
using static TorchSharp.torch;

namespace Mlsae.Models;

/// <summary>
/// A loaded language model with the layers and special-token rule a command or run reads it with:
/// its residual stream, and its tokenizer (loaded once, on first use).
/// </summary>
public sealed class ModelSession : IDisposable
{
    readonly Lazy<Tokenizer> tokenizer;

    ModelSession(string name, string folder, ILanguageModel model, int[] layers, SpecialTokens? special, IResidualHook? hook)
    {
        Name = name;
        Folder = folder;
        Model = model;
        Layers = layers;
        Special = special;
        Stream = new ResidualStream(model, layers, special, hook);
        tokenizer = new Lazy<Tokenizer>(() => Tokenizer.Load(TokenizerFolder));
    }

    /// <summary>The model as named (a hub id, a folder, or <see cref="EmbeddedModel.Name"/>).</summary>
    public string Name { get; }
    /// <summary>The local folder it was loaded from.</summary>
    public string Folder { get; }
    /// <summary>The model.</summary>
    public ILanguageModel Model { get; }
    /// <summary>Model layer indices read, in order.</summary>
    public int[] Layers { get; }
    /// <summary>Special tokens whose positions are zeroed, or null.</summary>
    public SpecialTokens? Special { get; }
    /// <summary>The residual stream of <see cref="Layers"/>.</summary>
    public ResidualStream Stream { get; private set; }
    /// <summary>The folder holding its tokenizer files.</summary>
    public string TokenizerFolder => Model.TokenizerFolder ?? Folder;
    /// <summary>Whether the model folder ships a tokenizer.</summary>
    public bool HasTokenizer => File.Exists(Path.Combine(TokenizerFolder, "tokenizer.json"));
    /// <summary>The model's own tokenizer.</summary>
    public Tokenizer Tokenizer => tokenizer.Value;

    /// <summary>Resolves <paramref name="model"/> (the embedded model, a local folder, or a hub id
    /// through <paramref name="hub"/>), loads it through the <see cref="ModelRegistry"/>, and selects
    /// <paramref name="layers"/> (null: all). <paramref name="hook"/>, when given, makes the residual
    /// stream's hook from the loaded model and the chosen layers (a tuned lens checks its shape there).</summary>
    public static ModelSession Open(string model, string revision, string? layers, Device device, ScalarType dtype, bool skipSpecialTokens,
        Func<HubClient> hub, Func<ILanguageModel, int[], IResidualHook>? hook = null, bool allowNonFiniteWeights = false)
    {
        var folder = EmbeddedModel.Folder(model) ?? ModelResolver.Resolve(model, revision, hub);
        var loaded = ModelRegistry.Load(folder, device, dtype, allowNonFiniteWeights);
        try
        {
            var selected = LayerSelection.Parse(layers, loaded.Config.NumHiddenLayers);
            return new ModelSession(model, folder, loaded, selected, skipSpecialTokens ? loaded.SpecialTokens : null, hook?.Invoke(loaded, selected));
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>Makes <see cref="Stream"/> read the block outputs of the batches <paramref name="cached"/>
    /// holds instead of running the model (same hook, same special-token rule); the session owns it
    /// from then on. Call it before handing <see cref="Stream"/> out: earlier references keep the model.</summary>
    public void ReadHiddenStatesFrom(ICachedHiddenStates cached)
    {
        if (Stream.Cached is not null) throw new InvalidOperationException("this session already reads from a cache");
        Stream = new ResidualStream(Model, Layers, Special, Stream.Hook, cached);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Model.Dispose();
        (Stream.Hook as IDisposable)?.Dispose();
        (Stream.Cached as IDisposable)?.Dispose();
    }
}

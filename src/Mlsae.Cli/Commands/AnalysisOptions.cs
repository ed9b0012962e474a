using System.CommandLine;
using Mlsae.Autoencoder;
using Mlsae.Data;
using Mlsae.Embedded;
using Mlsae.Analysis;
using Mlsae.Models;

namespace Mlsae.Cli.Commands;

/// <summary>The options every data-reading analysis command shares (as <c>mlsae eval</c>'s), and
/// the <see cref="AnalysisSession"/> they open: the SAE, the model and the batches of this shard.</summary>
sealed class AnalysisOptions(bool needsSae = true, int defaultMaxTokens = 1_000_000, bool severalSaes = false)
{
    public Option<string?> Model { get; } = CommonOptions.Model();
    public Option<string> Revision { get; } = CommonOptions.Revision();
    public Option<string?> Layers { get; } = CommonOptions.Layers();
    public SaeOptions Sae { get; } = new(severalSaes);
    public DataOptions Data { get; } = new();
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Sequences per batch", DefaultValueFactory = _ => 1 };
    public Option<long> MaxTokens { get; } = new("--max-tokens") { Description = "Tokens to read (of this shard)", DefaultValueFactory = _ => defaultMaxTokens };
    public Option<string> Device { get; } = CommonOptions.Device();
    public Option<string> DType { get; } = CommonOptions.DType();
    public Option<bool> NoSkip { get; } = CommonOptions.NoSkipSpecialTokens();
    public Option<bool> AllowNonFinite { get; } = CommonOptions.AllowNonFiniteWeights();
    public TunedLensOptions Lens { get; } = new();
    public ActivationCacheOptions Cache { get; } = new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Revision, Layers, BatchSize, MaxTokens, Device, DType, NoSkip, AllowNonFinite }) command.Options.Add(option);
        if (needsSae) Sae.AddTo(command);
        Lens.AddTo(command);
        Cache.AddTo(command);
        Data.AddTo(command);
    }

    /// <summary><see cref="Open"/> for a command that may run on several ranks: under
    /// <paramref name="ranks"/> every rank then checks that all opened the same analysis (flags, build,
    /// SAE, data, and <paramref name="extra"/>: <see cref="DistributedOptions.Agree"/>) and fails at
    /// start-up otherwise.</summary>
    public AnalysisSession OpenAgreed(ParseResult parse, CliConsole console, Training.IDataParallel? ranks, string? saeName = null, params string[] extra)
    {
        var session = Open(parse, console, saeName, ranks);
        try
        {
            DistributedOptions.Agree(ranks, session, extra);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Opens the SAE (when the command needs one; <paramref name="saeName"/> picks one of
    /// several), its model and this shard's batches (with <c>--activations</c>: the cache's, its
    /// vectors read instead of running the model), shared by <paramref name="parallel"/>'s ranks when given.</summary>
    public AnalysisSession Open(ParseResult parse, CliConsole console, string? saeName = null, Training.IDataParallel? parallel = null)
    {
        var cache = Cache.Open(parse);
        var (dev, type) = CommonOptions.ParseCompute(parse.GetValue(Device)!, ActivationCacheOptions.Default(parse, DType, cache, i => i.ModelDType)!);
        var hub = CliHub.Lazy(console);
        ModelSession? model = null;
        SaeOptions.Resolved? sae = null;
        try
        {
            sae = needsSae ? Sae.Load(parse, console, dev, saeName) : null;
            var run = sae?.Run;
            var modelName = sae?.Model(parse.GetValue(Model)) ?? EmbeddedDefaults.Model(parse.GetValue(Model) ?? cache?.Index.Model, console);
            model = ModelSession.Open(modelName, ActivationCacheOptions.Default(parse, Revision, cache, i => i.Revision)!,
                sae?.LayerList(parse.GetValue(Layers)) ?? parse.GetValue(Layers) ?? (cache is null ? null : string.Join(",", cache.Index.Layers)),
                dev, type, !parse.GetValue(NoSkip) && (run?.Model.SkipSpecialTokens ?? true), hub, Lens.Hook(parse, console, modelName, sae, hub, dev),
                allowNonFiniteWeights: parse.GetValue(AllowNonFinite) || (run?.Model.AllowNonFiniteWeights ?? false));
            sae?.CheckLayers(model.Layers);
            if (sae is not null && model.Model.Config.HiddenSize != sae.Autoencoder.NInputs)
                throw new MlsaeException($"--sae: the SAE reads {sae.Autoencoder.NInputs}-dimensional vectors but {model.Name} has hidden_size {model.Model.Config.HiddenSize}");
            int batch = parse.GetValue(BatchSize);
            if (batch <= 0) throw new MlsaeException($"--batch-size must be positive, got {batch}");
            long tokens = parse.GetValue(MaxTokens);
            if (tokens <= 0) throw new MlsaeException($"--max-tokens must be positive, got {tokens}");
            Data.ImplicitMaxLength = run?.Data.MaxLength ?? cache?.Index.MaxLength ?? (modelName == EmbeddedModel.Name ? EmbeddedModel.RunDefaults.Data.MaxLength : null);
            var opened = model;
            if (cache is not null)
            {
                cache.AttachTo(model, Data.ParseMaxLength(parse));
                var cached = ActivationCacheOptions.Source(parse, Data, cache, batch, () => opened.Tokenizer);
                return new AnalysisSession { Autoencoder = sae?.Autoencoder, Run = run, SaeName = sae?.Folder ?? "", Model = model, Data = cached, DataName = cache.Index.Data.Data, MaxTokens = tokens, Parallel = parallel };
            }
            var dataName = EmbeddedDefaults.Data(parse.GetValue(Data.Data), console, heldOut: true);
            var source = Data.Source(parse, () => opened.Tokenizer, hub, batch, dataName);
            return new AnalysisSession { Autoencoder = sae?.Autoencoder, Run = run, SaeName = sae?.Folder ?? "", Model = model, Data = source, DataName = dataName, MaxTokens = tokens, Parallel = parallel };
        }
        catch
        {
            sae?.Dispose();
            model?.Dispose();
            cache?.Dispose();
            throw;
        }
    }
}

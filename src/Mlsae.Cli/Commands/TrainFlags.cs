using System.CommandLine;
using Mlsae.Data;
using Mlsae.Embedded;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary>
/// The options of a training run, shared by <c>train</c> and <c>sweep</c>: every flag that goes into a
/// run's <c>run.json</c>, and the one rule that turns them into <see cref="TrainOptions"/> (for the
/// embedded model, its own defaults for every flag left out). A sweep names the coder's kind,
/// expansion factor and k per member instead of <c>--expansion-factor</c> and <c>-k</c>.
/// </summary>
sealed class TrainFlags(bool withShape = true)
{
    public Option<string?> Model { get; } = CommonOptions.Model();
    public Option<string> Revision { get; } = CommonOptions.Revision();
    public Option<string?> Layers { get; } = CommonOptions.Layers();
    public DataOptions Data { get; } = new DataOptions();
    public Option<string?> ValData { get; } = new Option<string?>("--val-data") { Description = "Validation data (default: the first --val-batches batches of --data, held out from training)" };
    public Option<int> ValBatches { get; } = new Option<int>("--val-batches") { Description = "Batches per validation", DefaultValueFactory = _ => 4 };
    public Option<string> Kind { get; } = new Option<string>("--kind") { Description = "Sparse coder kind: mlsae (one SAE for every layer), per-layer (one SAE per layer) or crosscoder (one latent vector per token across the layers)", DefaultValueFactory = _ => "mlsae" };
    public Option<int> Expansion { get; } = new Option<int>("--expansion-factor") { Description = "Latents per input dimension", DefaultValueFactory = _ => 16 };
    public Option<int> K { get; } = new Option<int>("-k", "--k") { Description = "Latents kept per vector (TopK)", DefaultValueFactory = _ => 32 };
    public Option<int> Auxk { get; } = new Option<int>("--auxk") { Description = "Dead latents in the AuxK loss (0 disables AuxK)", DefaultValueFactory = _ => 256 };
    public Option<double> AuxkCoef { get; } = new Option<double>("--auxk-coef") { Description = "AuxK loss coefficient", DefaultValueFactory = _ => 1.0 / 32 };
    public Option<long> DeadTokens { get; } = new Option<long>("--dead-tokens-threshold") { Description = "Tokens without firing after which a latent is dead", DefaultValueFactory = _ => 10_000_000 };
    public Option<double> DeadThreshold { get; } = new Option<double>("--dead-threshold") { Description = "Activation above which a latent fires", DefaultValueFactory = _ => 1e-3 };
    public Option<double> Lr { get; } = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => 1e-4 };
    public Option<int> BatchSize { get; } = new Option<int>("--batch-size") { Description = "Sequences per batch", DefaultValueFactory = _ => 1 };
    public Option<int> Accumulate { get; } = new Option<int>("--accumulate-grad-batches") { Description = "Batches per optimizer step", DefaultValueFactory = _ => 64 };
    public Option<long> MaxTokens { get; } = new Option<long>("--max-tokens") { Description = "Tokens to train on", DefaultValueFactory = _ => 1_000_000_000 };
    public Option<long> Seed { get; } = new Option<long>("--seed") { Description = "Seed of the autoencoder's initialization", DefaultValueFactory = _ => 0 };
    public Option<int> LogEvery { get; } = new Option<int>("--log-every") { Description = "Optimizer steps between metrics.jsonl lines", DefaultValueFactory = _ => 1 };
    public Option<int> ValEvery { get; } = new Option<int>("--val-every") { Description = "Optimizer steps between validations (0: only at the end)", DefaultValueFactory = _ => 50 };
    public Option<int> CheckpointEvery { get; } = new Option<int>("--checkpoint-every") { Description = "Optimizer steps between resumable checkpoints", DefaultValueFactory = _ => 10 };
    public Option<bool> NoStandardize { get; } = new Option<bool>("--no-standardize") { Description = "Do not standardize input vectors" };
    public Option<bool> Quirks { get; } = new Option<bool>("--reference-quirks") { Description = "Reproduce the reference exactly: AuxK error in raw space with the bias, dead latents counted in forward calls against a threshold in optimizer steps, bias initialized from raw inputs" };
    public Option<string> Device { get; } = CommonOptions.Device();
    public Option<string> Dtype { get; } = CommonOptions.DType();
    public Option<string?> ModelDType { get; } = new Option<string?>("--model-dtype") { Description = "Compute dtype of the transformer forward when it differs from --dtype (float32, bfloat16, float16)" };
    public Option<bool> NoSkip { get; } = CommonOptions.NoSkipSpecialTokens();
    public Option<bool> AllowNonFinite { get; } = CommonOptions.AllowNonFiniteWeights();
    public TunedLensOptions Lens { get; } = new TunedLensOptions(withQuirks: false);
    public ActivationCacheOptions Activations { get; } = new ActivationCacheOptions();

    /// <summary>Adds the flags to <paramref name="command"/> (without <c>--kind</c>, <c>--expansion-factor</c> and <c>-k</c> for a sweep).</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
        {
            Model, Revision, Layers, ValData, ValBatches, Kind, Expansion, K, Auxk, AuxkCoef, DeadTokens, DeadThreshold, Lr,
            BatchSize, Accumulate, MaxTokens, Seed, LogEvery, ValEvery, CheckpointEvery, NoStandardize, Quirks, Device, Dtype, ModelDType, NoSkip, AllowNonFinite,
        })
            if (withShape || (option != Kind && option != Expansion && option != K)) command.Options.Add(option);
        Data.AddTo(command);
        Lens.AddTo(command);
        Activations.AddTo(command);
    }

    /// <summary>The coder's kind, expansion factor and k when a sweep member gives them.</summary>
    public sealed record Shape(string Kind, int ExpansionFactor, int K);
    /// <summary>A new run's options: the flags given, <paramref name="shape"/> for a sweep member, and for the
    /// embedded model its own defaults for every flag left out.</summary>
    /// <remarks>With <paramref name="cache"/> (<c>--activations</c>) the model and data default to the cache's, which the options must match.</remarks>
    public TrainOptions Options(ParseResult parse, CliConsole console, Shape? shape = null, Mlsae.Activations.Cache.ActivationCache? cache = null)
    {
        int auxkValue = parse.GetValue(Auxk);
        if (auxkValue < 0) throw new MlsaeException($"--auxk must not be negative, got {auxkValue}");
        var modelName = EmbeddedDefaults.Model(parse.GetValue(Model) ?? cache?.Index.Model, console);
        var dataName = EmbeddedDefaults.Data(parse.GetValue(Data.Data) ?? cache?.Index.Data.Data, console);
        var tuned = new EmbeddedRunChoice(parse, modelName == EmbeddedModel.Name);
        var d = EmbeddedModel.RunDefaults;
        var options = new TrainOptions
        {
            Model = new ModelOptions
            {
                Name = modelName, Revision = parse.GetValue(Revision)!, SkipSpecialTokens = !parse.GetValue(NoSkip), DType = parse.GetValue(ModelDType),
                AllowNonFiniteWeights = parse.GetValue(AllowNonFinite),
            },
            Data = new TrainDataOptions
            {
                Source = dataName, Split = parse.GetValue(Data.Split)!, Revision = parse.GetValue(Data.Revision)!, TextField = parse.GetValue(Data.TextField)!,
                SkipBadLines = parse.GetValue(Data.SkipBadLines), MaxDocumentBytes = Data.Documents(parse).MaxDocumentBytes, Shard = Data.ParseShard(parse) is { Count: > 1 } shard ? shard.ToString() : null,
                ValData = dataName == DataSource.Embedded ? tuned.Pick(ValData, d.Data.ValData) : parse.GetValue(ValData), ValBatches = tuned.Pick(ValBatches, d.Data.ValBatches),
                MaxLength = tuned.Pick(Data.MaxLength, d.Data.MaxLength), BatchSize = tuned.Pick(BatchSize, d.Data.BatchSize),
            },
            Autoencoder = new AutoencoderOptions
            {
                Kind = shape?.Kind ?? parse.GetValue(Kind)!,
                ExpansionFactor = shape?.ExpansionFactor ?? tuned.Pick(Expansion, d.Autoencoder.ExpansionFactor), K = shape?.K ?? tuned.Pick(K, d.Autoencoder.K),
                AuxK = tuned.Pick(Auxk, d.Autoencoder.AuxK ?? 0, auxkValue) switch { 0 => null, var a => a }, AuxKCoef = parse.GetValue(AuxkCoef),
                DeadTokensThreshold = tuned.Pick(DeadTokens, d.Autoencoder.DeadTokensThreshold), DeadThreshold = parse.GetValue(DeadThreshold),
                Standardize = !parse.GetValue(NoStandardize), Seed = parse.GetValue(Seed), ReferenceQuirks = parse.GetValue(Quirks), DType = parse.GetValue(Dtype)!,
            },
            Optimizer = new OptimizerOptions
            {
                Lr = tuned.Pick(Lr, d.Optimizer.Lr), AccumulateGradBatches = tuned.Pick(Accumulate, d.Optimizer.AccumulateGradBatches),
                MaxTokens = tuned.Pick(MaxTokens, d.Optimizer.MaxTokens),
            },
            Runtime = new RuntimeOptions
            {
                Device = parse.GetValue(Device)!, LogEvery = tuned.Pick(LogEvery, d.Runtime.LogEvery), ValEvery = tuned.Pick(ValEvery, d.Runtime.ValEvery),
                CheckpointEvery = tuned.Pick(CheckpointEvery, d.Runtime.CheckpointEvery),
            },
        };
        if (tuned.Replaced.Count > 0) console.Notice($"embedded run defaults: {string.Join(", ", tuned.Replaced)}");
        return cache is null ? options : ActivationCacheOptions.Configure(parse, options, cache);
    }
}

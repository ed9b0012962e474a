using System.CommandLine;
using Mlsae.Autoencoder;
using Mlsae.Data;
using Mlsae.Models;

namespace Mlsae.Cli.Commands;

/// <summary>The options every data-reading analysis command shares (as <c>mlsae eval</c>'s), and
/// the session they open: the SAE, the model and the batches of this shard.</summary>
sealed class AnalysisOptions(bool needsSae = true, int defaultMaxTokens = 1_000_000)
{
    public Option<string?> Model { get; } = CommonOptions.Model();
    public Option<string> Revision { get; } = CommonOptions.Revision();
    public Option<string?> Layers { get; } = CommonOptions.Layers();
    public SaeOptions Sae { get; } = new();
    public DataOptions Data { get; } = new();
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Sequences per batch", DefaultValueFactory = _ => 1 };
    public Option<long> MaxTokens { get; } = new("--max-tokens") { Description = "Tokens to read (of this shard)", DefaultValueFactory = _ => defaultMaxTokens };
    public Option<string> Device { get; } = CommonOptions.Device();
    public Option<string> DType { get; } = CommonOptions.DType();
    public Option<bool> NoSkip { get; } = CommonOptions.NoSkipSpecialTokens();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Revision, Layers, BatchSize, MaxTokens, Device, DType, NoSkip }) command.Options.Add(option);
        if (needsSae) Sae.AddTo(command);
        Data.AddTo(command);
    }

    /// <summary>An open analysis: the SAE (null for model-only commands), the model and the data.</summary>
    public sealed class Session : IDisposable
    {
        public required SaeOptions.Resolved? Sae { get; init; }
        public required ModelContext Context { get; init; }
        public required int MaxLength { get; init; }
        public required int BatchSize { get; init; }
        public required long MaxTokens { get; init; }
        public required BatchSource Data { get; init; }
        public required string DataName { get; init; }

        public Coders.ISparseCoder Autoencoder => Sae?.Autoencoder ?? throw new InvalidOperationException("no SAE");
        public ResidualStream Stream => Context.Stream;
        public long MaxBatches => Math.Max(1, (MaxTokens + (long)BatchSize * MaxLength - 1) / ((long)BatchSize * MaxLength));

        /// <summary>Batches of this shard, each with its sequences' indices in the whole stream. // [B, T]</summary>
        public IEnumerable<TokenBatch> Batches() => Data.Batches().Take((int)Math.Min(int.MaxValue, MaxBatches));

        /// <summary>
        /// Streams this shard's batches through the model and the SAE (no gradients, training state
        /// untouched) with a progress bar, handing each batch and its SAE output to
        /// <paramref name="use"/> inside the batch's dispose scope. Returns the tokens read.
        /// </summary>
        public long Encode(string title, CliConsole console, Action<TokenBatch, Coders.SparseCoderOutput> use) =>
            console.Progress(title, MaxBatches * BatchSize * MaxLength, "tokens", done =>
            {
                long seen = 0;
                foreach (var batch in Batches())
                {
                    using var scope = TorchSharp.torch.NewDisposeScope();
                    using var _ = TorchSharp.torch.no_grad();
                    using var output = Autoencoder.Forward(Stream.Forward(Stream.Tokens(batch.Sequences)), training: false);
                    use(batch, output);
                    seen += batch.Tokens;
                    done(seen);
                }
                return seen;
            });

        /// <summary>Metadata every output records.</summary>
        public Dictionary<string, string> Metadata() => new()
        {
            ["model"] = Context.Name,
            ["sae"] = Sae?.Folder ?? "",
            ["layers"] = string.Join(",", Context.Layers),
            ["data"] = DataName,
            ["max_length"] = MaxLength.ToString(),
            ["batch_size"] = BatchSize.ToString(),
            ["shard"] = Data.Shard.ToString(),
        };

        public void Dispose()
        {
            Context.Dispose();
            Sae?.Dispose();
        }
    }

    public Session Open(ParseResult parse, CliConsole console)
    {
        var (dev, _) = CommonOptions.ParseCompute(parse.GetValue(Device)!, parse.GetValue(DType)!);
        var sae = needsSae ? Sae.Load(parse, console, dev) : null;
        try
        {
            var run = sae?.Run;
            var modelName = sae?.Model(parse.GetValue(Model)) ?? EmbeddedDefaults.Model(parse.GetValue(Model), console);
            var context = ModelContext.Open(modelName, parse.GetValue(Revision)!, sae?.LayerList(parse.GetValue(Layers)) ?? parse.GetValue(Layers),
                parse.GetValue(Device)!, parse.GetValue(DType)!, !parse.GetValue(NoSkip) && (run?.SkipSpecialTokens ?? true), console);
            if (sae is not null && context.Model.Config.HiddenSize != sae.Autoencoder.NInputs)
                throw new MlsaeException($"--sae: the SAE reads {sae.Autoencoder.NInputs}-dimensional vectors but {context.Name} has hidden_size {context.Model.Config.HiddenSize}");
            int batch = parse.GetValue(BatchSize);
            if (batch <= 0) throw new MlsaeException($"--batch-size must be positive, got {batch}");
            long tokens = parse.GetValue(MaxTokens);
            if (tokens <= 0) throw new MlsaeException($"--max-tokens must be positive, got {tokens}");
            Data.ImplicitMaxLength = run?.MaxLength ?? (modelName == EmbeddedDefaults.Name ? TrainCommand.EmbeddedRunDefaults.MaxLength : null);
            int maxLength = Data.ParseMaxLength(parse);
            var dataName = EmbeddedDefaults.Data(parse.GetValue(Data.Data), console, heldOut: true);
            var source = Data.Source(parse, context.Tokenizer, () => ActivationsCommand.NewHubClient(console), batch, dataName);
            return new Session
            {
                Sae = sae, Context = context, MaxLength = maxLength, BatchSize = batch, MaxTokens = tokens, Data = source, DataName = dataName,
            };
        }
        catch
        {
            sae?.Dispose();
            throw;
        }
    }
}

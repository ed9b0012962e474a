using System.CommandLine;
using Mlsae.Activations.Cache;
using Mlsae.Data;
using Mlsae.Embedded;
using Mlsae.Models;
using Mlsae.Runs;
using Mlsae.Tensors;

namespace Mlsae.Cli.Commands;

/// <summary><c>mlsae cache</c>: run a model once over packed data and store its raw residual stream
/// as safetensors shards, for <c>--activations</c> on train, eval and the analyses.</summary>
public static class CacheCommand
{
    /// <summary>The shard size aimed at when <c>--sequences-per-shard</c> is left out (256 MiB).</summary>
    const long ShardBytes = 256L << 20;

    /// <summary>Builds the command.</summary>
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var revision = CommonOptions.Revision();
        var layers = CommonOptions.Layers();
        var data = new DataOptions();
        var maxTokens = new Option<long>("--max-tokens")
        {
            Description = "Tokens to cache: ceil(N / (batch size · max length)) batches, as train counts them", DefaultValueFactory = _ => 1_000_000_000,
        };
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences per forward pass (train from the cache with the same --batch-size for exactly the model run's vectors)", DefaultValueFactory = _ => 1 };
        var storage = new Option<string>("--storage-dtype")
        {
            Description = "Dtype the vectors are stored in: float32 (exact), float16 or bfloat16 (half the disk, rounded; read back as float32)", DefaultValueFactory = _ => "float32",
        };
        var perShard = new Option<int?>("--sequences-per-shard") { Description = "Sequences per shard file, a multiple of --batch-size (default: whole batches filling about 256 MiB)" };
        var device = CommonOptions.Device();
        var dtype = CommonOptions.DType();
        var allowNonFinite = CommonOptions.AllowNonFiniteWeights();
        var output = new Option<string>("--out") { Description = "Cache folder (index.json + shard-NNNNN.safetensors); a rerun of the same command continues an interrupted one", Required = true };
        var command = new Command("cache", "Run a model once over data and store its residual stream [L, B, T, D] for --activations (resumable)")
        {
            model, revision, layers, maxTokens, batchSize, storage, perShard, device, dtype, allowNonFinite, output,
        };
        data.AddTo(command);
        command.SetAction(parse => console.Guard(() =>
        {
            var folder = parse.GetValue(output)!;
            if (string.IsNullOrWhiteSpace(folder)) throw new MlsaeException("--out: an empty folder name");
            var storageName = parse.GetValue(storage)!;
            if (!DTypes.Names.Contains(storageName)) throw new MlsaeException($"--storage-dtype: unknown dtype '{storageName}' (expected one of {string.Join(", ", DTypes.Names)})");
            var modelName = EmbeddedDefaults.Model(parse.GetValue(model), console);
            var tuned = new EmbeddedRunChoice(parse, modelName == EmbeddedModel.Name);
            var d = EmbeddedModel.RunDefaults;
            if (modelName == EmbeddedModel.Name) data.ImplicitMaxLength = d.Data.MaxLength;
            int batch = tuned.Pick(batchSize, d.Data.BatchSize);
            long budget = tuned.Pick(maxTokens, d.Optimizer.MaxTokens);
            if (batch <= 0) throw new MlsaeException($"--batch-size must be positive, got {batch}");
            if (budget <= 0) throw new MlsaeException($"--max-tokens must be positive, got {budget}");
            var dataName = EmbeddedDefaults.Data(parse.GetValue(data.Data), console);
            var (dev, type) = CommonOptions.ParseCompute(parse.GetValue(device)!, parse.GetValue(dtype)!);
            using var folderLock = RunLock.Acquire(folder);
            var hub = CliHub.Lazy(console);
            using var session = ModelSession.Open(modelName, parse.GetValue(revision)!, parse.GetValue(layers), dev, type, skipSpecialTokens: true, hub,
                allowNonFiniteWeights: parse.GetValue(allowNonFinite));
            int maxLength = data.ParseMaxLength(parse);
            if (session.HasTokenizer && SequenceStream.EffectiveMaxLength(session.Tokenizer, maxLength) is int effective && effective < maxLength)
            {
                console.Notice($"--max-length: {maxLength} exceeds the tokenizer's model_max_length; using {effective}, as the reference does");
                maxLength = effective;
            }
            var shard = data.ParseShard(parse);
            var source = new BatchSource(new DataSource(dataName, parse.GetValue(data.Split)!, parse.GetValue(data.Revision)!), data.Documents(parse),
                maxLength, batch, shard, () => session.Tokenizer, hub);
            var settings = new ActivationCacheIndex
            {
                Model = ActivationCache.Normalize(modelName), Revision = parse.GetValue(revision)!, ModelFingerprint = ModelFingerprint.Of(session.Folder),
                ModelDType = DTypes.Name(type), HiddenSize = session.Model.Config.HiddenSize, Layers = session.Layers, MaxLength = maxLength,
                BatchSize = batch, MaxTokens = budget,
                Data = new CachedData
                {
                    Data = ActivationCache.NormalizeData(source.Source), Split = source.Source.Split, Revision = source.Source.Revision,
                    TextField = source.Documents.TextField, SkipBadLines = source.Documents.SkipBadLines, MaxDocumentBytes = source.Documents.MaxDocumentBytes,
                    Shard = shard.ToString(),
                },
                SpecialTokenIds = session.Model.SpecialTokens.Ids.ToArray(), StorageDType = storageName,
                SequencesPerShard = SequencesPerShard(parse.GetValue(perShard), batch, session.Layers.Length, maxLength, session.Model.Config.HiddenSize, storageName),
            };
            if (tuned.Replaced.Count > 0) console.Notice($"embedded run defaults: {string.Join(", ", tuned.Replaced)}");
            var index = ActivationCacheWriter.Write(folder, settings, session.Model, source, console);
            long asked = index.TotalBatches * batch;
            console.Out.WriteLine($"wrote {folder}: {index.Sequences:N0} sequences ({index.Tokens:N0} tokens) of layers [{string.Join(", ", index.Layers)}] "
                + $"in {index.Shards.Count} shard{(index.Shards.Count == 1 ? "" : "s")}, {index.StorageDType}"
                + (index.Sequences < asked ? $"; the data ran out before the {budget:N0}-token budget" : ""));
            return 0;
        }));
        return command;
    }

    /// <summary>The given count (checked), or as many whole batches as fill about <see cref="ShardBytes"/>, at least one.</summary>
    static int SequencesPerShard(int? given, int batch, int layers, int maxLength, int hiddenSize, string storage)
    {
        if (given is int n)
        {
            if (n <= 0 || n % batch != 0) throw new MlsaeException($"--sequences-per-shard must be a positive multiple of --batch-size {batch}, got {n}");
            return n;
        }
        long perSequence = (long)layers * maxLength * hiddenSize * (storage == "float32" ? 4 : 2);
        long batches = Math.Max(1, ShardBytes / (perSequence * batch));
        return (int)Math.Min(batches * batch, int.MaxValue / batch * batch);
    }
}

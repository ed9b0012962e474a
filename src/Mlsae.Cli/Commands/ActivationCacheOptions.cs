using System.CommandLine;
using System.CommandLine.Parsing;
using Mlsae.Activations.Cache;
using Mlsae.Data;
using Mlsae.Tokenization;
using Mlsae.Training;

namespace Mlsae.Cli.Commands;

/// <summary>
/// <c>--activations &lt;cache-dir&gt;</c> on every command that reads a residual stream from data
/// (train, eval, test and the data-reading analyses), and the one rule for what it implies: the
/// cache's token ids are the data, its model, revision, compute dtype, layers and max_length are
/// the defaults of the flags left out, and a flag given with another value is an error naming both.
/// </summary>
sealed class ActivationCacheOptions
{
    public Option<string?> Activations { get; } = new("--activations")
    {
        Description = "Read the residual stream from an activation cache folder (written by mlsae cache) instead of running the model; "
            + "its token ids are the data, and its model, layers and max length the defaults",
    };

    public void AddTo(Command command) => command.Options.Add(Activations);

    /// <summary>The cache named by <c>--activations</c>, opened and checked, or null.</summary>
    public ActivationCache? Open(ParseResult parse) => parse.GetValue(Activations) is string folder ? ActivationCache.Open(folder) : null;

    /// <summary>The cache a resumed run recorded (null for none); another <c>--activations</c> is an error, as a resumed run keeps its own.</summary>
    public ActivationCache? Reopen(ParseResult parse, TrainOptions recorded, string runDir)
    {
        var given = parse.GetValue(Activations);
        if (recorded.Data.Activations is not { } reference)
            return given is null ? null : throw new MlsaeException($"--activations: the run in {runDir} was started without an activation cache; a resumed run keeps its own data");
        if (given is not null && Path.GetFullPath(given) != reference.Path)
            throw new MlsaeException($"--activations: the run in {runDir} reads the cache {reference}; a resumed run keeps its own");
        return ActivationCache.Open(reference);
    }

    static bool Given(ParseResult parse, string flag) => parse.GetResult(flag) is OptionResult { Implicit: false };

    /// <summary>A new run's options read from <paramref name="cache"/>: the data, model, compute dtype,
    /// layers and max_length the cache holds for every flag left out; a flag given otherwise is an error.</summary>
    public static TrainOptions Configure(ParseResult parse, TrainOptions options, ActivationCache cache)
    {
        var index = cache.Index;
        if (ActivationCache.Normalize(options.Model.Name) != index.Model)
            throw new MlsaeException($"--model: {options.Model.Name} asked, but the cache in {cache.Folder} was written from {index.Model}");
        if (Given(parse, "--model-dtype") && options.Model.DType != index.ModelDType)
            throw new MlsaeException($"--model-dtype: {options.Model.DType} asked, but the cache in {cache.Folder} was computed in {index.ModelDType}");
        CheckData(parse, options.Data.Source, options.Data.Split, options.Data.Revision, cache);
        if (Given(parse, "--max-length")) cache.CheckMaxLength(options.Data.MaxLength);
        return options with
        {
            Model = options.Model with
            {
                Name = index.Model, Revision = Given(parse, "--revision") ? options.Model.Revision : index.Revision, DType = index.ModelDType,
                Layers = options.Model.Layers ?? (Given(parse, "--layers") ? null : index.Layers),
            },
            Data = options.Data with
            {
                Source = index.Data.Data, Split = index.Data.Split, Revision = index.Data.Revision, TextField = index.Data.TextField,
                SkipBadLines = index.Data.SkipBadLines, MaxDocumentBytes = index.Data.MaxDocumentBytes, MaxLength = index.MaxLength,
                Shard = options.Data.Shard ?? (index.Data.Shard == Shard.All.ToString() ? null : index.Data.Shard), Activations = cache.Reference,
            },
        };
    }

    /// <summary>A <c>--data</c> given beside <c>--activations</c> must name the cache's source.</summary>
    static void CheckData(ParseResult parse, string data, string split, string revision, ActivationCache cache)
    {
        if (!Given(parse, "--data")) return;
        var asked = ActivationCache.NormalizeData(new DataSource(data, split, revision));
        if (asked != cache.Index.Data.Data)
            throw new MlsaeException($"--data: {data} asked, but the cache in {cache.Folder} holds sequences of {cache.Index.Data.Data}; leave --data out to read the cache's");
    }

    /// <summary>The value of <paramref name="option"/>, or the cache's when there is a cache and the flag was left out.</summary>
    public static string? Default(ParseResult parse, Option<string> option, ActivationCache? cache, Func<ActivationCacheIndex, string> cached) =>
        cache is not null && !Given(parse, option.Name) ? cached(cache.Index) : parse.GetValue(option);

    /// <summary>An analysis's batches from the cache: <c>--data</c> may only name the cache's source, <c>--shard</c> keeps its part.</summary>
    public static BatchSource Source(ParseResult parse, DataOptions data, ActivationCache cache, int batchSize, Func<Tokenizer> tokenizer)
    {
        if (parse.GetValue(data.Data) is string given) CheckData(parse, given, parse.GetValue(data.Split)!, parse.GetValue(data.Revision)!, cache);
        return cache.Source(batchSize, data.ParseShard(parse), tokenizer);
    }
}

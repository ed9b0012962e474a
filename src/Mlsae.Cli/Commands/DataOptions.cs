using System.CommandLine;
using Mlsae.Data;
using Mlsae.Hub;
using Mlsae.Tokenization;

namespace Mlsae.Cli.Commands;

/// <summary>The data options every data-reading command shares (<c>--data</c>, <c>--split</c>,
/// <c>--text-field</c>, <c>--skip-bad-lines</c>, <c>--max-length</c>), and the one way they turn
/// into token sequences.</summary>
public sealed class DataOptions
{
    /// <summary><c>--data</c>.</summary>
    public Option<string?> Data { get; } = new("--data")
    {
        Description = "Text data: .txt/.jsonl/.jsonl.zst/.parquet file, folder or glob, pre-tokenized JSONL ({\"input_ids\": [..]}), a hub dataset id (org/name), or embedded / embedded:heldout (the synthetic corpus)",
    };
    /// <summary><c>--split</c> of a hub dataset.</summary>
    public Option<string> Split { get; } = new("--split") { Description = "Split of a hub dataset", DefaultValueFactory = _ => "train" };
    /// <summary><c>--data-revision</c> of a hub dataset.</summary>
    public Option<string> Revision { get; } = new("--data-revision") { Description = "Hub revision of a --data dataset", DefaultValueFactory = _ => "main" };
    /// <summary><c>--text-field</c>.</summary>
    public Option<string> TextField { get; } = new("--text-field") { Description = "JSON field or Parquet column holding the document text", DefaultValueFactory = _ => "text" };
    /// <summary><c>--skip-bad-lines</c>.</summary>
    public Option<bool> SkipBadLines { get; } = new("--skip-bad-lines")
    {
        Description = "Skip malformed records and replace invalid UTF-8 (as Python's errors='replace'), counting both, instead of failing",
    };
    /// <summary><c>--max-document-bytes</c>.</summary>
    public Option<long> MaxDocumentBytes { get; } = new("--max-document-bytes")
    {
        Description = "Largest record read (a JSONL line, a Parquet value, a whole .txt file); a larger one is an error naming file:line",
        DefaultValueFactory = _ => DocumentOptions.DefaultMaxDocumentBytes,
    };
    /// <summary><c>--max-length</c>.</summary>
    public Option<int> MaxLength { get; }
    /// <summary><c>--shard i/n</c>.</summary>
    public Option<string?> Shard { get; } = new("--shard")
    {
        Description = "i/n: use only the i-th of n disjoint parts of the data (sequence j goes to part j mod n), for splitting work across jobs",
    };

    /// <summary>Creates the options; <paramref name="maxLength"/> is the command's default sequence length.</summary>
    public DataOptions(int maxLength = 2048)
    {
        MaxLength = new Option<int>("--max-length") { Description = "Tokens per sequence (the reference's default is 2048)", DefaultValueFactory = _ => maxLength };
    }

    /// <summary>The <c>--max-length</c> to use when the user gave none (e.g. the embedded model's own), instead of the option's default.</summary>
    public int? ImplicitMaxLength { get; set; }

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Data);
        command.Options.Add(Split);
        command.Options.Add(Revision);
        command.Options.Add(TextField);
        command.Options.Add(SkipBadLines);
        command.Options.Add(MaxDocumentBytes);
        command.Options.Add(MaxLength);
        command.Options.Add(Shard);
    }

    /// <summary>The parsed <c>--shard</c>; the whole stream when not given.</summary>
    public global::Mlsae.Data.Shard ParseShard(ParseResult parse) => global::Mlsae.Data.Shard.Parse(parse.GetValue(Shard));

    /// <summary>The parsed <c>--max-length</c>, checked.</summary>
    public int ParseMaxLength(ParseResult parse)
    {
        int max = ImplicitMaxLength is int implicitMax && parse.GetResult(MaxLength) is not { Implicit: false } ? implicitMax : parse.GetValue(MaxLength);
        if (max <= 0) throw new MlsaeException($"--max-length must be positive, got {max}");
        return max;
    }

    /// <summary>The parsed document options (<c>--text-field</c>, <c>--skip-bad-lines</c>, <c>--max-document-bytes</c>).</summary>
    public DocumentOptions Documents(ParseResult parse)
    {
        long max = parse.GetValue(MaxDocumentBytes);
        if (max <= 0) throw new MlsaeException($"--max-document-bytes must be positive, got {max}");
        return new DocumentOptions(parse.GetValue(TextField)!, parse.GetValue(SkipBadLines), max);
    }

    /// <summary>The batch source <c>--data</c> (or <paramref name="fallback"/>) names, in batches of
    /// <paramref name="batchSize"/>; <paramref name="tokenizer"/> is loaded once, only for text sources.</summary>
    public BatchSource Source(ParseResult parse, Func<Tokenizer> tokenizer, Func<HubClient> hub, int batchSize = 1, string? fallback = null)
    {
        var data = parse.GetValue(Data) ?? fallback ?? throw new MlsaeException("--data is required");
        return new BatchSource(new DataSource(data, parse.GetValue(Split)!, parse.GetValue(Revision)!),
            Documents(parse), ParseMaxLength(parse), batchSize, ParseShard(parse), tokenizer, hub);
    }
}
